/* wakespin: checks shmring__block's spin through a woken peer's wake-up
 * (run by TestCringWakeSpin in package ring). A consumer of a ring in this
 * process's memory, with peer checks off and a counted spin of one load,
 * waits with a try that says "empty" until a set time, a peer answering
 * then; nobody wakes its futex word, so a call that sleeps returns only at
 * its timeout. Prints "ok", or what failed and exits 1. */
#include <stdio.h>
#include <stdlib.h>

#include "../ring.h"

static int64_t answer_at;

static int try_answer(struct shmring *r, void *arg) {
	(void)r, (void)arg;
	return shmring__now_ns() < answer_at ? SHMRING_EEMPTY : SHMRING_OK;
}

static int failed;

static void expect(int ok, const char *what) {
	if (!ok) {
		printf("FAIL: %s\n", what);
		failed = 1;
	}
}

/* wait runs one blocked call: the peer answers after answer_ms; this
 * program last woke a peer woke_ms ago (-1: never); quick is the call's
 * start state. It returns the call's result; *slept says whether it
 * slept. */
static int wait(struct shmring *r, long answer_ms, long woke_ms, int quick, int timeout_ms, int *slept) {
	int64_t now = shmring__now_ns();
	atomic_store(&shmring__last_wake_ns, woke_ms < 0 ? 0 : now - woke_ms * 1000000);
	answer_at = now + answer_ms * 1000000;
	r->quick = quick;
	uint64_t before = r->sleeps;
	int rc = shmring__block(r, SHMRING_OFF_DATA_WAITERS, SHMRING_OFF_PRODUCER_PID, timeout_ms, try_answer, NULL);
	*slept = r->sleeps != before;
	return rc;
}

int main(void) {
	static uint64_t mem[(SHMRING_HEADER_SIZE + 4096) / 8];
	struct shmring r;
	if (shmring_init(&r, mem, sizeof mem) || shmring_consumer(&r)) {
		printf("FAIL: init\n");
		return 1;
	}
	r.peer_check_ms = -1;
	r.spin_loads = 1;
	r.spin_yields = 0;
	int slept, rc;

	/* A wake-up 0 ms ago, a spin of a second, the answer at 2 ms: no sleep
	 * (a call that slept would time out at 500 ms). */
	r.wake_spin_us = 1000000;
	rc = wait(&r, 2, 0, 1, 500, &slept);
	expect(rc == SHMRING_OK && !slept, "a call made just after a wake-up slept instead of spinning through the peer's 2 ms");
	expect(r.quick, "a wait that the spin after a wake-up ended cleared quick");

	/* No wake-up within the spin, or the last wait slow: the call sleeps. */
	rc = wait(&r, 2, 2000, 1, 20, &slept);
	expect(slept, "a call spun with no wake-up within wake_spin_us");
	rc = wait(&r, 2, 0, 0, 20, &slept);
	expect(slept, "a call spun after a wake-up though its last wait was slow");
	rc = wait(&r, 2, -1, 1, 20, &slept);
	expect(slept, "a call spun though this program never woke anyone");

	/* A peer that does not answer within the spin: one spin, then a sleep,
	 * and quick cleared; a wait that ends in the counted spin sets it. */
	r.wake_spin_us = 2000;
	int64_t t0 = shmring__now_ns();
	rc = wait(&r, 3600 * 1000L, 0, 1, 30, &slept);
	expect(rc == SHMRING_ETIMEDOUT && slept, "a call whose peer never answered did not time out asleep");
	expect(shmring__now_ns() - t0 >= 2000000, "a call whose peer never answered returned before its 2 ms spin");
	expect(!r.quick, "a spin the peer did not answer left quick set");
	rc = wait(&r, 0, -1, 0, 20, &slept);
	expect(rc == SHMRING_OK && !slept && r.quick, "a wait that ended in the counted spin did not set quick");

	/* wake_spin_us 0 turns the spin off. */
	r.wake_spin_us = 0;
	rc = wait(&r, 2, 0, 1, 20, &slept);
	expect(slept, "a call spun with wake_spin_us 0");

	shmring_close(&r);
	if (failed) return 1;
	printf("ok\n");
	return 0;
}
