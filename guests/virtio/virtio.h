/*
 * A minimal virtio-mmio (version 2) driver for the proof programs: find a
 * device, reset it, negotiate, set up queue 0 with split rings, publish
 * chains, notify, wait for the used ring. Everything is exposed so the
 * programs can also do all of it wrongly on purpose.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include "guest.h"

typedef unsigned short u16;

/* QEMU virt's transports, where VMKit's registry places them. */
#define VIRTIO_MMIO_BASE 0x0a000000UL
#define VIRTIO_MMIO_SLOT 0x200
#define VIRTIO_MMIO_SLOTS 32

/* Registers (virtio 1.2 §4.2.2). */
#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_INTERRUPT_STATUS 0x060
#define VM_INTERRUPT_ACK 0x064
#define VM_STATUS 0x070
#define VM_QUEUE_DESC_LOW 0x080
#define VM_QUEUE_DESC_HIGH 0x084
#define VM_QUEUE_DRIVER_LOW 0x090
#define VM_QUEUE_DRIVER_HIGH 0x094
#define VM_QUEUE_DEVICE_LOW 0x0a0
#define VM_QUEUE_DEVICE_HIGH 0x0a4
#define VM_CONFIG 0x100

#define VIRTIO_MAGIC 0x74726976 /* "virt" */

#define ST_ACKNOWLEDGE 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_NEEDS_RESET 64

#define INT_USED 1
#define INT_CONFIG 2

/* Transport feature bits (in the high word: bit 32 + n). */
#define F_INDIRECT_DESC 28
#define F_VERSION_1 32

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* The largest queue the rings here hold. */
#define VQ_MAX 256

struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[VQ_MAX];
	u16 used_event;
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[VQ_MAX];
	u16 avail_event;
};

/* The rings of queue 0, page aligned, in the program's RAM. */
extern volatile struct vring_desc vq_desc[VQ_MAX];
extern volatile struct vring_avail vq_avail;
extern volatile struct vring_used vq_used;

/* The transport being driven: its base address (0 when none was found). */
extern u64 vdev;

u32 vread(u32 offset);
void vwrite(u32 offset, u32 value);

/* The first transport carrying device `id` (0 when there is none); also sets vdev. */
u64 virtio_find(u32 id);
/* STATUS = 0; returns the status read back. */
u32 virtio_reset(void);
/* ACKNOWLEDGE, DRIVER, the features (bits 0-63), FEATURES_OK; returns the status read back. */
u32 virtio_negotiate(u64 features);
/* Queue 0 with `num` entries on the given rings; returns QueueReady read back. */
u32 virtio_queue_at(u32 num, u64 desc, u64 avail, u64 used);
/* Queue 0 with `num` entries on vq_desc/vq_avail/vq_used (cleared); returns QueueReady. */
u32 virtio_queue(u32 num);
/* Sets DRIVER_OK; returns the status read back. */
u32 virtio_driver_ok(void);
/* Reset, negotiate `features`, queue 0 of `num` entries, DRIVER_OK; returns 1 if all took. */
int virtio_start(u32 num, u64 features);

/* Puts `head` in the next available slot and bumps the index (no notification). */
void vq_publish(u16 head);
/* Adds `n` to the available index without filling slots. */
void vq_advance(u16 n);
/* Notifies queue 0. */
void vq_notify(void);
/* Waits until the used index reaches `idx` or `us` microseconds pass; returns whether it did. */
int vq_wait_used(u16 idx, u64 us);
/* Waits until `bits` are set in STATUS or `us` microseconds pass; returns whether they were. */
int virtio_wait_status(u32 bits, u64 us);
/* The available index the program published up to. */
u16 vq_avail_idx(void);

/*
 * Any queue of a device, for drivers with more than one (virtio-net's receive
 * queue 0 and transmit queue 1). The rings are the caller's, page aligned and
 * at least `num` entries long.
 */
struct virtq {
	u32 index;
	u32 num;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	u16 avail_idx;
};

/* Clears the rings and sets queue `index` up with `num` entries; returns QueueReady read back. */
u32 virtq_setup(struct virtq *q, u32 index, u32 num, volatile struct vring_desc *desc,
		volatile struct vring_avail *avail, volatile struct vring_used *used);
/* Puts `head` in the next available slot and bumps the index (no notification). */
void virtq_publish(struct virtq *q, u16 head);
/* Notifies the queue. */
void virtq_notify(struct virtq *q);
/* Waits until the used index reaches `idx` or `us` microseconds pass; returns whether it did. */
int virtq_wait_used(struct virtq *q, u16 idx, u64 us);

/* Microseconds from the virtual counter. */
u64 now_us(void);

void *memset(void *s, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

#endif /* VIRTIO_H */
