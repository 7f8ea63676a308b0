/*
 * A virtio-net driver that posts malformed transmit chains and receive
 * buffers to VMKit's virtio-net, one mistake after another, between good
 * frames, and checks the device's documented reaction each time: a mistake
 * inside one frame (zero length, only a header, shorter than an Ethernet
 * header, over the MTU, 64 KiB, asking for segmentation or for a checksum
 * outside the frame) costs that frame only: its buffer comes back, nothing
 * is sent, the device keeps running; a broken ring (a descriptor loop, a
 * buffer outside RAM or wrapping the address space) puts the device into
 * DEVICE_NEEDS_RESET, and after a reset it works again. Receive buffers
 * without writable space or too small for a frame come back empty.
 *
 * Good frames are broadcasts of EtherType 0x88b5 whose payload starts with
 * GOOD_TEXT and a two-digit number; tests/virtio_net_malformed_test.ts
 * captures them on the switch and expects exactly those. Frames of EtherType
 * 0x88b6 ask the test's endpoint to send them back to this card.
 */
#include "virtio.h"

#define NET_ID 1
#define F_MTU 3
#define F_MAC 5
#define F_STATUS 16
#define HDR 12
#define ETH_HLEN 14
#define NQ 16
#define MTU 1500
#define WAIT_US 2000000
#define BURSTS 40
#define GOOD_TYPE 0x88b5
#define ECHO_TYPE 0x88b6

static const char GOOD_TEXT[] = "vmkit-net good ";

static volatile struct vring_desc rx_desc[NQ] __attribute__((aligned(PAGE_SIZE)));
static volatile struct vring_avail rx_avail __attribute__((aligned(PAGE_SIZE)));
static volatile struct vring_used rx_used __attribute__((aligned(PAGE_SIZE)));
static volatile struct vring_desc tx_desc[NQ] __attribute__((aligned(PAGE_SIZE)));
static volatile struct vring_avail tx_avail __attribute__((aligned(PAGE_SIZE)));
static volatile struct vring_used tx_used __attribute__((aligned(PAGE_SIZE)));
static struct virtq rx, tx;

/* A frame buffer big enough for the 64 KiB mistake, and receive buffers. */
static u8 frame[HDR + 65536 + 64] __attribute__((aligned(PAGE_SIZE)));
static u8 rxbuf[NQ][2048] __attribute__((aligned(PAGE_SIZE)));
static u8 mac[6];
static u32 good_sent;

static void set_desc(volatile struct vring_desc *d, u64 addr, u32 len, u16 flags, u16 next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static u32 needs_reset(void)
{
	return vread(VM_STATUS) & ST_NEEDS_RESET;
}

/* A 60-byte broadcast of `type` after a clean header; the payload starts at frame + HDR + 14. */
static void build(u16 type, const char *text, u32 number)
{
	memset(frame, 0, HDR + 60);
	for (int i = 0; i < 6; i++) {
		frame[HDR + i] = 0xff;
		frame[HDR + 6 + i] = mac[i];
	}
	frame[HDR + 12] = (u8)(type >> 8);
	frame[HDR + 13] = (u8)type;
	u32 n = 0;
	for (const char *s = text; *s; s++)
		frame[HDR + ETH_HLEN + n++] = (u8)*s;
	frame[HDR + ETH_HLEN + n++] = (u8)('0' + number / 10 % 10);
	frame[HDR + ETH_HLEN + n] = (u8)('0' + number % 10);
}

/* Sends the chain at descriptor 0 and waits for it to come back; returns whether it did. */
static int send_chain(void)
{
	u16 want = (u16)(tx.avail_idx + 1);
	virtq_publish(&tx, 0);
	virtq_notify(&tx);
	return virtq_wait_used(&tx, want, WAIT_US);
}

/* One buffer of `len` bytes from `frame` (header included), sent. */
static int send_bytes(u32 len)
{
	set_desc(&tx_desc[0], (u64)frame, len, 0, 0);
	return send_chain();
}

static void start(const char *group)
{
	u64 features = 1UL << F_VERSION_1 | 1UL << F_MAC | 1UL << F_STATUS | 1UL << F_MTU;
	check_eq_in(group, "reset", virtio_reset(), 0);
	check_in(group, "features accepted", (virtio_negotiate(features) & ST_FEATURES_OK) != 0,
		 vread(VM_STATUS), ST_FEATURES_OK);
	check_eq_in(group, "receive queue ready",
		    virtq_setup(&rx, 0, NQ, rx_desc, &rx_avail, &rx_used), 1);
	check_eq_in(group, "transmit queue ready",
		    virtq_setup(&tx, 1, NQ, tx_desc, &tx_avail, &tx_used), 1);
	check_eq_in(group, "DRIVER_OK", virtio_driver_ok() & (ST_DRIVER_OK | ST_NEEDS_RESET),
		    ST_DRIVER_OK);
}

static void good_frame(const char *group)
{
	build(GOOD_TYPE, GOOD_TEXT, ++good_sent);
	check_eq_in(group, "a good frame is sent", send_bytes(HDR + 60), 1);
	check_eq_in(group, "its buffer comes back with nothing written",
		    tx_used.ring[(u16)(tx_used.idx - 1) % NQ].len, 0);
	check_eq_in(group, "no device error", needs_reset(), 0);
}

/* The chain at descriptor 0 has a mistake inside one frame: it must come back, unsent. */
static void dropped(const char *group)
{
	check_eq_in(group, "the buffer comes back", send_chain(), 1);
	check_eq_in(group, "no device error", needs_reset(), 0);
}

/* The ring itself is broken: DEVICE_NEEDS_RESET, and a reset brings the device back. */
static void broken(const char *group)
{
	u16 used_before = tx_used.idx;
	virtq_publish(&tx, 0);
	virtq_notify(&tx);
	check_eq_in(group, "DEVICE_NEEDS_RESET", virtio_wait_status(ST_NEEDS_RESET, WAIT_US), 1);
	check_eq_in(group, "configuration-change interrupt",
		    vread(VM_INTERRUPT_STATUS) & INT_CONFIG, INT_CONFIG);
	vwrite(VM_INTERRUPT_ACK, vread(VM_INTERRUPT_STATUS));
	check_eq_in(group, "nothing in the used ring", tx_used.idx, used_before);
	start(group);
	good_frame(group);
}

static void probe(void)
{
	const char *g = "probe";
	check_in(g, "a virtio-net transport", virtio_find(NET_ID) != 0, vdev, VIRTIO_MMIO_BASE);
	if (!vdev)
		finish();
	start(g);
	for (int i = 0; i < 6; i++)
		mac[i] = *(volatile u8 *)(vdev + VM_CONFIG + i);
	check_eq_in(g, "the MAC address the host gave", mac[0] << 8 | mac[5], 0x520b);
	check_eq_in(g, "link up", *(volatile u16 *)(vdev + VM_CONFIG + 6) & 1, 1);
	check_eq_in(g, "MTU", *(volatile u16 *)(vdev + VM_CONFIG + 10), MTU);
}

static void frame_mistakes(void)
{
	const char *g = "good frames";
	good_frame(g);
	/* A frame in four buffers: the header split, the payload split. */
	build(GOOD_TYPE, GOOD_TEXT, ++good_sent);
	set_desc(&tx_desc[0], (u64)frame, 5, DESC_F_NEXT, 1);
	set_desc(&tx_desc[1], (u64)frame + 5, HDR - 5, DESC_F_NEXT, 2);
	set_desc(&tx_desc[2], (u64)frame + HDR, 20, DESC_F_NEXT, 3);
	set_desc(&tx_desc[3], (u64)frame + HDR + 20, 40, 0, 0);
	check_eq_in(g, "a frame in four buffers is sent", send_chain(), 1);

	g = "zero-length frame";
	set_desc(&tx_desc[0], (u64)frame, 0, 0, 0);
	dropped(g);

	g = "header only";
	set_desc(&tx_desc[0], (u64)frame, HDR, 0, 0);
	dropped(g);

	g = "shorter than an Ethernet header";
	build(GOOD_TYPE, "bad short", 0);
	set_desc(&tx_desc[0], (u64)frame, HDR + 13, 0, 0);
	dropped(g);

	g = "oversized frame";
	build(GOOD_TYPE, "bad oversized", 0);
	set_desc(&tx_desc[0], (u64)frame, HDR + MTU + 18 + 1, 0, 0);
	dropped(g);

	g = "64 KiB frame";
	set_desc(&tx_desc[0], (u64)frame, HDR + 65536, 0, 0);
	dropped(g);

	g = "segmentation asked for";
	build(GOOD_TYPE, "bad gso", 0);
	frame[1] = 1; /* VIRTIO_NET_HDR_GSO_TCPV4 */
	set_desc(&tx_desc[0], (u64)frame, HDR + 60, 0, 0);
	dropped(g);

	g = "checksum outside the frame";
	build(GOOD_TYPE, "bad csum", 0);
	frame[0] = 1; /* NEEDS_CSUM */
	frame[6] = 58; /* csum_start */
	frame[8] = 10; /* csum_offset: the field would end past byte 60 */
	set_desc(&tx_desc[0], (u64)frame, HDR + 60, 0, 0);
	dropped(g);

	g = "burst of malformed frames";
	u32 returned = 0;
	build(GOOD_TYPE, "bad burst", 0);
	for (u32 round = 0; round < BURSTS; round++) {
		u16 want = (u16)(tx.avail_idx + NQ);
		for (u16 i = 0; i < NQ; i++) {
			set_desc(&tx_desc[i], (u64)frame, (i & 1) ? HDR + MTU + 100 : HDR + 4, 0, 0);
			tx_avail.ring[tx.avail_idx++ % NQ] = i;
		}
		__asm__ volatile("dmb sy" ::: "memory");
		tx_avail.idx = tx.avail_idx;
		virtq_notify(&tx);
		returned += virtq_wait_used(&tx, want, WAIT_US) ? NQ : 0;
	}
	check_eq_in(g, "every buffer comes back", returned, BURSTS * NQ);
	check_eq_in(g, "no device error", needs_reset(), 0);
	good_frame(g);
}

static void ring_mistakes(void)
{
	const char *g = "descriptor loop";
	build(GOOD_TYPE, "bad loop", 0);
	set_desc(&tx_desc[0], (u64)frame, HDR, DESC_F_NEXT, 1);
	set_desc(&tx_desc[1], (u64)frame + HDR, 60, DESC_F_NEXT, 0);
	broken(g);

	g = "buffer outside RAM";
	set_desc(&tx_desc[0], 0x1000, HDR + 60, 0, 0);
	broken(g);

	g = "buffer wrapping the address space";
	set_desc(&tx_desc[0], 0xfffffffffffff000UL, 0x2000, 0, 0);
	broken(g);
}

/*
 * Receive buffers the device cannot use: one without writable space, one
 * too small for any frame. They come first in the ring, so whatever frames
 * arrive first (the test's echoes, or broadcasts from the other VM) meet
 * them; the echo of the last request must arrive whole in a good buffer.
 */
static void receive_mistakes(void)
{
	const char *g = "receive buffers";
	set_desc(&rx_desc[0], (u64)rxbuf[0], 2048, 0, 0);
	set_desc(&rx_desc[1], (u64)rxbuf[1], 20, DESC_F_WRITE, 0);
	virtq_publish(&rx, 0);
	virtq_publish(&rx, 1);
	for (u16 i = 2; i < NQ; i++) {
		memset(rxbuf[i], 0, 2048);
		set_desc(&rx_desc[i], (u64)rxbuf[i], 2048, DESC_F_WRITE, 0);
		virtq_publish(&rx, i);
	}
	virtq_notify(&rx);
	for (u32 k = 1; k <= 3; k++) {
		build(ECHO_TYPE, "vmkit-net echo ", k);
		send_bytes(HDR + 60);
	}
	check_eq_in(g, "frames arrive", virtq_wait_used(&rx, 3, WAIT_US), 1);
	check_eq_in(g, "the buffer without writable space comes back empty",
		    rx_used.ring[0].id << 16 | rx_used.ring[0].len, 0 << 16 | 0);
	check_eq_in(g, "the buffer too small comes back empty",
		    rx_used.ring[1].id << 16 | rx_used.ring[1].len, 1 << 16 | 0);
	int whole = 0;
	for (u16 k = 2; k < rx_used.idx && k < NQ; k++) {
		u32 id = rx_used.ring[k].id;
		u8 *b = rxbuf[id];
		if (id < 2 || rx_used.ring[k].len != HDR + 60 || b[HDR + 12] != 0x88 ||
		    b[HDR + 13] != 0xb6 || b[HDR + ETH_HLEN + 16] != '3')
			continue;
		whole |= b[10] == 1 && b[HDR] == mac[0] && b[HDR + 5] == mac[5];
	}
	check_eq_in(g, "the last echo arrives whole, to this card, num_buffers 1", whole, 1);
	check_eq_in(g, "no device error", needs_reset(), 0);
}

void test_main(void)
{
	probe();
	frame_mistakes();
	ring_mistakes();
	receive_mistakes();
	good_frame("end");
	log_str("good frames sent: ");
	log_hex(good_sent);
	log_str("\n");
	virtio_reset();
}
