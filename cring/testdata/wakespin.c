/* wakespin: checks shmring__block's spin through a woken peer's wake-up
 * (run by TestCringWakeSpin in package ring). A consumer of a ring in this
 * process's memory, with peer checks off and a counted spin of one load,
 * waits with a try that says "empty" until a set time (a peer answering
 * then) or forever. Nobody wakes its futex word, so a call that sleeps
 * returns only at its timeout. Prints "ok", or what failed and exits 1. */
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

/* wake_sleeper makes this program wake a sleeper as a write does: the
 * ring's space-waiters word set to 1 by a (pretend) sleeping producer,
 * then shmring__wake_if, a FUTEX_WAKE nobody waits for. It checks that the
 * wake-up was recorded and returns its time. */
static int64_t wake_sleeper(struct shmring *r) {
	int64_t before = shmring__now_ns();
	atomic_store(shmring__u32(r, SHMRING_OFF_SPACE_WAITERS), 1);
	shmring__wake_if(r, SHMRING_OFF_SPACE_WAITERS);
	int64_t woke = atomic_load(&shmring__last_wake_ns);
	expect(woke >= before && woke <= shmring__now_ns(), "shmring__wake_if's FUTEX_WAKE did not record the time");
	return woke;
}

/* wait runs one blocked call whose peer answers at answer (0: never),
 * starting with quick, and returns its result; *slept says whether it
 * slept. */
static int wait(struct shmring *r, int64_t answer, int quick, int timeout_ms, int *slept) {
	answer_at = answer ? answer : INT64_MAX;
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

	/* Just after a wake-up, a spin of a second, the answer 2 ms after the
	 * wake-up: no sleep (a call that slept would time out at 500 ms). */
	r.wake_spin_us = 1000000;
	rc = wait(&r, wake_sleeper(&r) + 2000000, 1, 500, &slept);
	expect(rc == SHMRING_OK && !slept, "a call made just after a wake-up slept instead of spinning through the peer's 2 ms");
	expect(r.quick, "a wait that the spin after a wake-up ended cleared quick");

	/* No wake-up within the spin, the last wait slow, or the spin off: the
	 * call sleeps at once and leaves quick as it was (a peer that never
	 * answers, so the call ends asleep at its timeout). */
	atomic_store(&shmring__last_wake_ns, shmring__now_ns() - 2000000000);
	rc = wait(&r, 0, 1, 20, &slept);
	expect(rc == SHMRING_ETIMEDOUT && slept && r.quick, "a call spun with no wake-up within wake_spin_us");
	wake_sleeper(&r);
	rc = wait(&r, 0, 0, 20, &slept);
	expect(rc == SHMRING_ETIMEDOUT && slept && !r.quick, "a call spun after a wake-up though its last wait was slow");
	r.wake_spin_us = 0;
	wake_sleeper(&r);
	rc = wait(&r, 0, 1, 20, &slept);
	expect(rc == SHMRING_ETIMEDOUT && slept && r.quick, "a call spun with wake_spin_us 0");

	/* A peer that does not answer within the spin: one spin, then a sleep,
	 * and quick cleared; a wait that ends in the counted spin sets it. */
	r.wake_spin_us = 5000;
	wake_sleeper(&r);
	rc = wait(&r, 0, 1, 200, &slept);
	expect(rc == SHMRING_ETIMEDOUT && slept, "a call whose peer never answered did not time out asleep");
	expect(!r.quick, "a spin the peer did not answer left quick set");
	rc = wait(&r, 1, 0, 20, &slept);
	expect(rc == SHMRING_OK && !slept && r.quick, "a wait that ended in the counted spin did not set quick");

	/* The timeout bounds the spin: a spin of 10 s, a timeout of 20 ms. */
	r.wake_spin_us = 10000000;
	wake_sleeper(&r);
	int64_t t0 = shmring__now_ns();
	rc = wait(&r, 0, 1, 20, &slept);
	expect(rc == SHMRING_ETIMEDOUT, "a call whose peer never answered did not time out");
	expect(shmring__now_ns() - t0 < 5000000000LL, "a call with a 20 ms timeout spun on for its wake_spin_us");

	shmring_close(&r);
	if (failed) return 1;
	printf("ok\n");
	return 0;
}
