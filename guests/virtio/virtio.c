/*
 * The minimal virtio-mmio driver of virtio.h. Polled: the programs run with
 * interrupts masked and read the used ring and the status register.
 */
#include "virtio.h"

volatile struct vring_desc vq_desc[VQ_MAX] __attribute__((aligned(PAGE_SIZE)));
volatile struct vring_avail vq_avail __attribute__((aligned(PAGE_SIZE)));
volatile struct vring_used vq_used __attribute__((aligned(PAGE_SIZE)));
u64 vdev;

static u16 avail_idx;
static u32 queue_num;

/* The device reads what the driver wrote, and the driver reads what it answered, in order. */
#define dmb() __asm__ volatile("dmb sy" ::: "memory")

u32 vread(u32 offset)
{
	dmb();
	return *(volatile u32 *)(vdev + offset);
}

void vwrite(u32 offset, u32 value)
{
	dmb();
	*(volatile u32 *)(vdev + offset) = value;
}

void *memset(void *s, int c, unsigned long n)
{
	volatile u8 *p = s;
	while (n--)
		*p++ = (u8)c;
	return s;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	volatile u8 *p = d;
	const u8 *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

u64 now_us(void)
{
	u64 freq = read_sysreg(cntfrq_el0);
	isb();
	u64 count = read_sysreg(cntvct_el0);
	return count / (freq / 1000000);
}

u64 virtio_find(u32 id)
{
	for (u64 slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
		vdev = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SLOT;
		if (vread(VM_MAGIC) == VIRTIO_MAGIC && vread(VM_DEVICE_ID) == id)
			return vdev;
	}
	vdev = 0;
	return 0;
}

u32 virtio_reset(void)
{
	vwrite(VM_STATUS, 0);
	avail_idx = 0;
	return vread(VM_STATUS);
}

u32 virtio_negotiate(u64 features)
{
	vwrite(VM_STATUS, ST_ACKNOWLEDGE);
	vwrite(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
	vwrite(VM_DRIVER_FEATURES_SEL, 0);
	vwrite(VM_DRIVER_FEATURES, (u32)features);
	vwrite(VM_DRIVER_FEATURES_SEL, 1);
	vwrite(VM_DRIVER_FEATURES, (u32)(features >> 32));
	vwrite(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	return vread(VM_STATUS);
}

u32 virtio_queue_at(u32 num, u64 desc, u64 avail, u64 used)
{
	vwrite(VM_QUEUE_SEL, 0);
	vwrite(VM_QUEUE_NUM, num);
	vwrite(VM_QUEUE_DESC_LOW, (u32)desc);
	vwrite(VM_QUEUE_DESC_HIGH, (u32)(desc >> 32));
	vwrite(VM_QUEUE_DRIVER_LOW, (u32)avail);
	vwrite(VM_QUEUE_DRIVER_HIGH, (u32)(avail >> 32));
	vwrite(VM_QUEUE_DEVICE_LOW, (u32)used);
	vwrite(VM_QUEUE_DEVICE_HIGH, (u32)(used >> 32));
	vwrite(VM_QUEUE_READY, 1);
	queue_num = num;
	return vread(VM_QUEUE_READY);
}

u32 virtio_queue(u32 num)
{
	memset((void *)vq_desc, 0, sizeof(vq_desc));
	memset((void *)&vq_avail, 0, sizeof(vq_avail));
	memset((void *)&vq_used, 0, sizeof(vq_used));
	avail_idx = 0;
	return virtio_queue_at(num, (u64)vq_desc, (u64)&vq_avail, (u64)&vq_used);
}

u32 virtio_driver_ok(void)
{
	vwrite(VM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return vread(VM_STATUS);
}

int virtio_start(u32 num, u64 features)
{
	if (virtio_reset() != 0)
		return 0;
	if (!(virtio_negotiate(features) & ST_FEATURES_OK))
		return 0;
	if (virtio_queue(num) != 1)
		return 0;
	return (virtio_driver_ok() & (ST_DRIVER_OK | ST_NEEDS_RESET)) == ST_DRIVER_OK;
}

void vq_publish(u16 head)
{
	vq_avail.ring[avail_idx % queue_num] = head;
	dmb();
	vq_avail.idx = ++avail_idx;
	dmb();
}

void vq_advance(u16 n)
{
	avail_idx += n;
	dmb();
	vq_avail.idx = avail_idx;
	dmb();
}

u16 vq_avail_idx(void)
{
	return avail_idx;
}

void vq_notify(void)
{
	vwrite(VM_QUEUE_NOTIFY, 0);
}

int vq_wait_used(u16 idx, u64 us)
{
	u64 end = now_us() + us;
	for (;;) {
		dmb();
		if ((u16)(vq_used.idx - idx) < 0x8000)
			return 1;
		if (now_us() > end)
			return 0;
	}
}

int virtio_wait_status(u32 bits, u64 us)
{
	u64 end = now_us() + us;
	for (;;) {
		if ((vread(VM_STATUS) & bits) == bits)
			return 1;
		if (now_us() > end)
			return 0;
	}
}

u32 virtq_setup(struct virtq *q, u32 index, u32 num, volatile struct vring_desc *desc,
		volatile struct vring_avail *avail, volatile struct vring_used *used)
{
	q->index = index;
	q->num = num;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->avail_idx = 0;
	memset((void *)desc, 0, num * sizeof(struct vring_desc));
	memset((void *)avail, 0, sizeof(*avail));
	memset((void *)used, 0, sizeof(*used));
	vwrite(VM_QUEUE_SEL, index);
	vwrite(VM_QUEUE_NUM, num);
	vwrite(VM_QUEUE_DESC_LOW, (u32)(u64)desc);
	vwrite(VM_QUEUE_DESC_HIGH, (u32)((u64)desc >> 32));
	vwrite(VM_QUEUE_DRIVER_LOW, (u32)(u64)avail);
	vwrite(VM_QUEUE_DRIVER_HIGH, (u32)((u64)avail >> 32));
	vwrite(VM_QUEUE_DEVICE_LOW, (u32)(u64)used);
	vwrite(VM_QUEUE_DEVICE_HIGH, (u32)((u64)used >> 32));
	vwrite(VM_QUEUE_READY, 1);
	return vread(VM_QUEUE_READY);
}

void virtq_publish(struct virtq *q, u16 head)
{
	q->avail->ring[q->avail_idx % q->num] = head;
	dmb();
	q->avail->idx = ++q->avail_idx;
	dmb();
}

void virtq_notify(struct virtq *q)
{
	vwrite(VM_QUEUE_NOTIFY, q->index);
}

int virtq_wait_used(struct virtq *q, u16 idx, u64 us)
{
	u64 end = now_us() + us;
	for (;;) {
		dmb();
		if ((u16)(q->used->idx - idx) < 0x8000)
			return 1;
		if (now_us() > end)
			return 0;
	}
}
