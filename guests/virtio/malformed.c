/*
 * A driver that does everything wrong, one mistake at a time, to VMKit's
 * virtio-blk: the untrusted-values list of packages/virtio/README.md. Each
 * mistake is checked for the device's documented reaction (the queue
 * refused, VIRTIO_BLK_S_IOERR, or DEVICE_NEEDS_RESET with the
 * configuration-change interrupt and nothing in the used ring), and after
 * each the device is reset and must serve a good request again.
 *
 * The disk it expects (tests/virtio_malformed_test.ts makes it): sector 0
 * starts with SECTOR0_TEXT, sector 2 with SECTOR2_TEXT; it writes sector 1.
 * Its serial is "virtio-proof".
 */
#include "virtio.h"

#define BLK_ID 2
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define NO_STATUS 0xff
#define SECTOR 512
#define WAIT_US 2000000 /* a completion comes from the host's event loop */
#define QUIET_US 50000  /* how long "nothing happens" is watched */

static const char SECTOR0_TEXT[] = "VMKit virtio-blk proof disk, sector 0";
static const char SECTOR2_TEXT[] = "sector 2 must never be written";
static const char SECTOR1_TEXT[] = "written by the malformed-queue guest";

struct blk_req {
	u32 type;
	u32 reserved;
	u64 sector;
};

static struct blk_req hdr __attribute__((aligned(16)));
static u8 data[2 * SECTOR] __attribute__((aligned(PAGE_SIZE)));
static volatile u8 status_byte;
/* An indirect table one entry longer than the largest queue. */
static volatile struct vring_desc indirect[VQ_MAX + 1] __attribute__((aligned(PAGE_SIZE)));

static u64 capacity;
static u32 queue_max;

static int starts_with(const u8 *p, const char *text)
{
	for (; *text; p++, text++)
		if (*p != (u8)*text)
			return 0;
	return 1;
}

static void set_desc(volatile struct vring_desc *d, u64 addr, u32 len, u16 flags, u16 next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Descriptors 0-2 of a well-formed request: header, data (if any), status. */
static void request(u32 type, u64 sector, u32 len, int data_writable)
{
	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	status_byte = NO_STATUS;
	set_desc(&vq_desc[0], (u64)&hdr, sizeof(hdr), DESC_F_NEXT, len ? 1 : 2);
	set_desc(&vq_desc[1], (u64)data, len, DESC_F_NEXT | (data_writable ? DESC_F_WRITE : 0), 2);
	set_desc(&vq_desc[2], (u64)&status_byte, 1, DESC_F_WRITE, 0);
}

/* Submits the chain at descriptor 0 and waits for it; returns the status byte (NO_STATUS if none). */
static u32 submit(void)
{
	u16 want = vq_avail_idx() + 1;
	vq_publish(0);
	vq_notify();
	if (!vq_wait_used(want, WAIT_US))
		return 0x100;
	return status_byte;
}

static u32 read_sector(u64 sector)
{
	memset(data, 0, sizeof(data));
	request(T_IN, sector, SECTOR, 1);
	return submit();
}

static void start(const char *group, u32 num, u64 features)
{
	check_eq_in(group, "device starts", virtio_start(num, features), 1);
}

/* After a mistake: a reset brings the device back, and a good request works. */
static void recovers(const char *group)
{
	check_eq_in(group, "reset clears the status", virtio_reset(), 0);
	start(group, 8, 1UL << F_VERSION_1);
	check_eq_in(group, "a good request after the reset", read_sector(0), S_OK);
	check_in(group, "it read sector 0", starts_with(data, SECTOR0_TEXT), data[0], 'V');
}

/*
 * The chain at descriptor 0 is malformed: the device must enter
 * DEVICE_NEEDS_RESET, tell the driver with the configuration interrupt, use
 * nothing, and ignore further notifications.
 */
static void needs_reset(const char *group)
{
	u16 used_before = vq_used.idx;
	vq_publish(0);
	vq_notify();
	check_eq_in(group, "DEVICE_NEEDS_RESET",
		    virtio_wait_status(ST_NEEDS_RESET, WAIT_US), 1);
	check_eq_in(group, "configuration-change interrupt",
		    vread(VM_INTERRUPT_STATUS) & INT_CONFIG, INT_CONFIG);
	vwrite(VM_INTERRUPT_ACK, vread(VM_INTERRUPT_STATUS));
	check_eq_in(group, "nothing in the used ring", vq_used.idx, used_before);
	check_eq_in(group, "no status written", status_byte, NO_STATUS);
	vq_notify();
	check_eq_in(group, "a later notification is ignored",
		    vq_wait_used(used_before + 1, QUIET_US), 0);
	recovers(group);
}

static void probe(void)
{
	check_in("probe", "a virtio-blk transport", virtio_find(BLK_ID) != 0, vdev, VIRTIO_MMIO_BASE);
	if (!vdev)
		finish();
	check_eq_in("probe", "version 2", vread(VM_VERSION), 2);
	virtio_reset();
	capacity = vread(VM_CONFIG) | (u64)vread(VM_CONFIG + 4) << 32;
	check_in("probe", "capacity", capacity >= 8, capacity, 8);
	vwrite(VM_QUEUE_SEL, 0);
	queue_max = vread(VM_QUEUE_NUM_MAX);
	check_in("probe", "QueueNumMax", queue_max >= 8 && queue_max <= VQ_MAX, queue_max, VQ_MAX);
}

static void good_requests(void)
{
	const char *g = "good requests";
	start(g, 8, 1UL << F_VERSION_1);
	check_eq_in(g, "read sector 0", read_sector(0), S_OK);
	check_in(g, "sector 0 holds the host's text", starts_with(data, SECTOR0_TEXT), data[0], 'V');
	check_eq_in(g, "used length: data and status", vq_used.ring[0].len, SECTOR + 1);
	check_eq_in(g, "used id: the head", vq_used.ring[0].id, 0);
	check_eq_in(g, "used-buffer interrupt", vread(VM_INTERRUPT_STATUS) & INT_USED, INT_USED);
	vwrite(VM_INTERRUPT_ACK, INT_USED);

	memset(data, 0, sizeof(data));
	memcpy(data, SECTOR1_TEXT, sizeof(SECTOR1_TEXT));
	request(T_OUT, 1, SECTOR, 0);
	check_eq_in(g, "write sector 1", submit(), S_OK);
	request(T_FLUSH, 0, 0, 0);
	check_eq_in(g, "flush", submit(), S_OK);
	check_eq_in(g, "read sector 1 back", read_sector(1), S_OK);
	check_in(g, "sector 1 holds what was written", starts_with(data, SECTOR1_TEXT), data[0], 'w');
	memset(data, 0, sizeof(data));
	request(T_GET_ID, 0, 20, 1);
	check_eq_in(g, "get id", submit(), S_OK);
	check_in(g, "the serial", starts_with(data, "virtio-proof"), data[0], 'v');

	/* An indirect table of three entries, so the too-long one below fails for its length only. */
	start(g, 8, 1UL << F_VERSION_1 | 1UL << F_INDIRECT_DESC);
	hdr.type = T_IN;
	hdr.sector = 0;
	status_byte = NO_STATUS;
	set_desc(&indirect[0], (u64)&hdr, sizeof(hdr), DESC_F_NEXT, 1);
	set_desc(&indirect[1], (u64)data, SECTOR, DESC_F_NEXT | DESC_F_WRITE, 2);
	set_desc(&indirect[2], (u64)&status_byte, 1, DESC_F_WRITE, 0);
	set_desc(&vq_desc[0], (u64)indirect, 3 * sizeof(struct vring_desc), DESC_F_INDIRECT, 0);
	check_eq_in(g, "read through an indirect table", submit(), S_OK);
}

/* Queue sizes and placements the transport must refuse at QueueReady. */
static void bad_queues(void)
{
	const char *g = "queue setup";
	u64 desc = (u64)vq_desc, avail = (u64)&vq_avail, used = (u64)&vq_used;
	virtio_reset();
	virtio_negotiate(1UL << F_VERSION_1);
	check_eq_in(g, "size 0 refused", virtio_queue_at(0, desc, avail, used), 0);
	check_eq_in(g, "size above QueueNumMax refused",
		    virtio_queue_at(queue_max * 2, desc, avail, used), 0);
	check_eq_in(g, "size 3 (not a power of two) refused", virtio_queue_at(3, desc, avail, used),
		    0);
	check_eq_in(g, "misaligned descriptor table refused",
		    virtio_queue_at(8, desc + 8, avail, used), 0);
	check_eq_in(g, "descriptor table outside RAM refused",
		    virtio_queue_at(8, 0x1000, avail, used), 0);
	check_eq_in(g, "used ring beyond the address space refused",
		    virtio_queue_at(8, desc, avail, 0xfffffffffffff000UL), 0);
	check_eq_in(g, "no device error for a refusal", vread(VM_STATUS) & ST_NEEDS_RESET, 0);
	vwrite(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	request(T_IN, 0, SECTOR, 1);
	u16 used_before = vq_used.idx;
	vq_publish(0);
	vq_notify();
	check_eq_in(g, "a queue never made ready is not served",
		    vq_wait_used(used_before + 1, QUIET_US), 0);
	check_eq_in(g, "no status written", status_byte, NO_STATUS);
	check_eq_in(g, "a good size then works", virtio_queue(8), 1);
	recovers(g);
}

static void early_notify(void)
{
	const char *g = "notify before DRIVER_OK";
	virtio_reset();
	virtio_negotiate(1UL << F_VERSION_1);
	check_eq_in(g, "queue ready", virtio_queue(8), 1);
	request(T_IN, 0, SECTOR, 1);
	memset(data, 0, sizeof(data));
	vq_publish(0);
	vq_notify();
	check_eq_in(g, "ignored", vq_wait_used(1, QUIET_US), 0);
	check_eq_in(g, "no status written", status_byte, NO_STATUS);
	check_eq_in(g, "no device error", vread(VM_STATUS) & ST_NEEDS_RESET, 0);
	virtio_driver_ok();
	check_eq_in(g, "served once DRIVER_OK is set", vq_wait_used(1, WAIT_US), 1);
	check_eq_in(g, "status OK", status_byte, S_OK);
	check_in(g, "the data", starts_with(data, SECTOR0_TEXT), data[0], 'V');
}

static void loops_and_lengths(void)
{
	const char *g = "descriptor loop";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_desc[2].flags |= DESC_F_NEXT;
	vq_desc[2].next = 0;
	needs_reset(g);

	g = "chain longer than the queue";
	start(g, 4, 1UL << F_VERSION_1);
	status_byte = NO_STATUS;
	for (u16 i = 0; i < 4; i++)
		set_desc(&vq_desc[i], (u64)data, 16, DESC_F_NEXT | DESC_F_WRITE, (u16)((i + 1) % 4));
	needs_reset(g);

	g = "indirect table longer than QueueNumMax";
	start(g, 8, 1UL << F_VERSION_1 | 1UL << F_INDIRECT_DESC);
	hdr.type = T_IN;
	set_desc(&indirect[0], (u64)&hdr, sizeof(hdr), DESC_F_NEXT, 1);
	for (u32 i = 1; i <= queue_max; i++)
		set_desc(&indirect[i], (u64)data, 16, DESC_F_WRITE | (i < queue_max ? DESC_F_NEXT : 0),
			 (u16)(i + 1));
	set_desc(&vq_desc[0], (u64)indirect, (queue_max + 1) * sizeof(struct vring_desc),
		 DESC_F_INDIRECT, 0);
	status_byte = NO_STATUS;
	needs_reset(g);

	g = "head index beyond the queue";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_avail.ring[0] = 8;
	vq_advance(1);
	vq_notify();
	check_eq_in(g, "DEVICE_NEEDS_RESET", virtio_wait_status(ST_NEEDS_RESET, WAIT_US), 1);
	recovers(g);

	g = "available index more than a queue ahead";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_advance(9);
	vq_notify();
	check_eq_in(g, "DEVICE_NEEDS_RESET", virtio_wait_status(ST_NEEDS_RESET, WAIT_US), 1);
	recovers(g);
}

static void bad_addresses(void)
{
	const char *g = "buffer below RAM";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_desc[1].addr = 0x1000;
	needs_reset(g);

	g = "buffer far above RAM";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_desc[1].addr = 0xfffffff000UL;
	needs_reset(g);

	g = "buffer length wrapping the address space";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_desc[1].addr = 0xfffffffffffff000UL;
	vq_desc[1].len = 0x2000;
	needs_reset(g);

	g = "buffer length running past the end of RAM";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_desc[1].len = 0xffffffffu;
	needs_reset(g);

	g = "indirect table outside RAM";
	start(g, 8, 1UL << F_VERSION_1 | 1UL << F_INDIRECT_DESC);
	status_byte = NO_STATUS;
	set_desc(&vq_desc[0], 0x2000, 3 * sizeof(struct vring_desc), DESC_F_INDIRECT, 0);
	needs_reset(g);
}

static void wrong_directions(void)
{
	const char *g = "header device-writable";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, 0, SECTOR, 1);
	vq_desc[0].flags |= DESC_F_WRITE;
	check_eq_in(g, "IOERR", submit(), S_IOERR);
	check_eq_in(g, "no device error", vread(VM_STATUS) & ST_NEEDS_RESET, 0);

	g = "write data device-writable";
	memset(data, 0xee, sizeof(data));
	request(T_OUT, 2, SECTOR, 1);
	check_eq_in(g, "IOERR", submit(), S_IOERR);
	check_eq_in(g, "sector 2 unchanged", read_sector(2), S_OK);
	check_in(g, "sector 2 holds the host's text", starts_with(data, SECTOR2_TEXT), data[0], 's');

	g = "read data device-readable";
	request(T_IN, 0, SECTOR, 0);
	check_eq_in(g, "IOERR", submit(), S_IOERR);

	g = "readable after writable";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_OUT, 2, SECTOR, 0);
	vq_desc[0].next = 2; /* header, status (writable), then the data (readable) */
	vq_desc[2].flags |= DESC_F_NEXT;
	vq_desc[2].next = 1;
	vq_desc[1].flags &= (u16)~DESC_F_NEXT;
	needs_reset(g);

	g = "no status byte";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_OUT, 2, SECTOR, 0);
	vq_desc[1].flags &= (u16)~DESC_F_NEXT;
	needs_reset(g);
}

static void bad_requests(void)
{
	const char *g = "requests out of range";
	start(g, 8, 1UL << F_VERSION_1);
	request(T_IN, capacity, SECTOR, 1);
	check_eq_in(g, "read at the capacity: IOERR", submit(), S_IOERR);
	request(T_IN, capacity - 1, 2 * SECTOR, 1);
	check_eq_in(g, "read across the end: IOERR", submit(), S_IOERR);
	request(T_IN, 0, 100, 1);
	check_eq_in(g, "partial sector: IOERR", submit(), S_IOERR);
	request(T_OUT, 0xffffffffffffffffUL, SECTOR, 0);
	check_eq_in(g, "write at sector 2^64-1: IOERR", submit(), S_IOERR);
	check_eq_in(g, "still running", vread(VM_STATUS) & ST_NEEDS_RESET, 0);
	check_eq_in(g, "and serving", read_sector(0), S_OK);
}

void test_main(void)
{
	probe();
	good_requests();
	bad_queues();
	early_notify();
	loops_and_lengths();
	bad_addresses();
	wrong_directions();
	bad_requests();
	/* The disk as the guest leaves it: sector 1 written, sector 2 not. */
	check_eq_in("end", "read sector 1", read_sector(1), S_OK);
	check_in("end", "sector 1", starts_with(data, SECTOR1_TEXT), data[0], 'w');
	virtio_reset();
}
