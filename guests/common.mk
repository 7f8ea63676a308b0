# Shared rules for the bare-metal guests. A suite's Makefile sets
#   SUITE      its name; binaries go to guests/build/$(SUITE)/<program>.bin
#   PROGRAMS   the programs it builds
#   LIB_SRCS   sources linked into every program
#   <p>_SRCS   the sources of program <p>
#   INCLUDES   extra -I options (optional)
#   IMAGE_BASE where the image is linked, when not at the start of RAM (optional)
# and then includes this file.
#
# Needs aarch64-linux-gnu-gcc and -objcopy (Debian/Ubuntu: gcc-aarch64-linux-gnu).

GUESTS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
CROSS_COMPILE ?= aarch64-linux-gnu-
CC := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy

OUT := $(GUESTS_DIR)/build/$(SUITE)
OBJ := $(OUT)/obj
LDSCRIPT := $(GUESTS_DIR)/baremetal.ld

# No C library, no FP/SIMD registers (the programs take exceptions and must
# not depend on FP state being saved), and nothing the distribution's default
# flags would add: PIE needs a loader, the stack protector needs a guard
# symbol, unwind tables are dead weight, and pointer authentication would make
# the code depend on the CPU model. -mstrict-align because code that runs with
# the MMU off sees Device memory, where unaligned accesses fault.
CFLAGS := -ffreestanding -nostdlib -mgeneral-regs-only -O2 -std=gnu11 \
	-march=armv8-a -mstrict-align -mbranch-protection=none \
	-fno-pie -fno-pic -fno-stack-protector -fno-common \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-Wall -Wextra -Werror $(INCLUDES)
ASFLAGS := -march=armv8-a -Wa,--noexecstack -Wall -Werror $(INCLUDES)
LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,--fatal-warnings -T $(LDSCRIPT)

ifdef IMAGE_BASE
CFLAGS += -DRAM_BASE=$(IMAGE_BASE)
ASFLAGS += -DRAM_BASE=$(IMAGE_BASE)
LDFLAGS += -Wl,--defsym=IMAGE_BASE=$(IMAGE_BASE)
endif

all: $(PROGRAMS:%=$(OUT)/%.bin)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ASFLAGS) -MMD -MP -c $< -o $@

objects = $(patsubst %,$(OBJ)/%.o,$(basename $(1)))

define program_rules
$(OUT)/$(1).elf: $(call objects,$($(1)_SRCS) $(LIB_SRCS)) $(LDSCRIPT)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rules,$(p))))

$(OUT)/%.bin: $(OUT)/%.elf
	$(OBJCOPY) -O binary $< $@

clean:
	rm -rf $(OUT)

.PHONY: all clean
.SECONDARY:

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
