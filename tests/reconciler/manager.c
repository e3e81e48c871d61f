/* tests/reconciler/manager.c - the controller manager across leadership
 * terms: lost and regained twice, nothing reconciled while not leading,
 * waiting keys dropped (not drained) when a term ends, the cancel flag
 * reaching a running reconcile, "do not retry", and the key splitter.
 * One worker per controller and zero backoff make the order exact; every
 * wait is for a condition, with an alarm against hangs. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reconciler/manager.h"

static void arm_alarm(void)
{
    alarm(60);
}

TestSuite(rc_manager, .init = arm_alarm);

#define MAXKEYS 64

/* What the reconciles saw; guarded by lock. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int not_leading;   /* set by the test after rc_manager_unlead */
    int violations;    /* reconciles started while not_leading */
    int block_started; /* "ns/block" is running */
    int block_saw_cancel;
    char keys[MAXKEYS][64];
    int counts[MAXKEYS];
    int nkeys;
} seen = {PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          0,
          0,
          0,
          0,
          {{0}},
          {0},
          0};

static int count_locked(const char *key)
{
    for (int i = 0; i < seen.nkeys; i++)
        if (strcmp(seen.keys[i], key) == 0)
            return seen.counts[i];
    return 0;
}

static void record_locked(const char *key)
{
    int i;

    for (i = 0; i < seen.nkeys && strcmp(seen.keys[i], key) != 0; i++)
        ;
    if (i == seen.nkeys && seen.nkeys < MAXKEYS)
        snprintf(seen.keys[seen.nkeys++], sizeof(seen.keys[0]), "%s", key);
    if (i < MAXKEYS)
        seen.counts[i]++;
    if (seen.not_leading)
        seen.violations++;
    pthread_cond_broadcast(&seen.changed);
}

/* "ns/block" waits for the term's cancel flag; "ns/bad" and "ns/fail"
 * enqueue "ns/after-<key>" while running, whose own run enqueues
 * "ns/last-<key>": with one worker and no backoff, a retried key would run
 * again before "ns/last-<key>". */
static int reconcile(struct rc_call *c)
{
    char next[RC_NAME_MAX + 16];

    pthread_mutex_lock(&seen.lock);
    record_locked(c->key);
    if (strcmp(c->name, "block") == 0) {
        seen.block_started = 1;
        pthread_cond_broadcast(&seen.changed);
        pthread_mutex_unlock(&seen.lock);
        while (!atomic_load(c->cancel))
            usleep(1000);
        pthread_mutex_lock(&seen.lock);
        seen.block_saw_cancel = 1;
    }
    pthread_mutex_unlock(&seen.lock);
    if (strncmp(c->name, "after-", 6) == 0) {
        snprintf(next, sizeof(next), "ns/last-%s", c->name + 6);
        rc_manager_enqueue(c->mgr, 0, next, 0);
    }
    if (strcmp(c->name, "bad") == 0 || strcmp(c->name, "fail") == 0) {
        snprintf(next, sizeof(next), "ns/after-%s", c->name);
        rc_manager_enqueue(c->mgr, 0, next, 0);
        return strcmp(c->name, "bad") == 0 ? RC_NORETRY : KUBE_ERR;
    }
    return KUBE_OK;
}

static const struct rc_controller rows[] = {
    {"thing", "Thing", 1, reconcile, NULL},
};

static void wait_count(const char *key, int n)
{
    pthread_mutex_lock(&seen.lock);
    while (count_locked(key) < n)
        pthread_cond_wait(&seen.changed, &seen.lock);
    pthread_mutex_unlock(&seen.lock);
}

static int count(const char *key)
{
    int n;

    pthread_mutex_lock(&seen.lock);
    n = count_locked(key);
    pthread_mutex_unlock(&seen.lock);
    return n;
}

static json_t *thing(const char *name)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "kind", "Thing", "metadata",
                     "namespace", "ns", "name", name);
}

static struct rc_manager *new_manager(struct kube_store *s)
{
    struct rc_queue_opts qo = {0, 0, 0, 0}; /* retries at once */
    struct rc_manager_opts o = {rows, 1, s, &qo, NULL, NULL, NULL};
    struct rc_manager *m = NULL;
    struct kube_err err = {0};

    cr_assert_eq(rc_manager_new(&m, &o, &err), KUBE_OK, "%s", err.msg);
    return m;
}

/* Ends a term while "ns/block" holds the only worker and keys wait. */
static void lose_lease(struct rc_manager *m)
{
    json_t *ev;

    pthread_mutex_lock(&seen.lock);
    seen.block_started = 0;
    pthread_mutex_unlock(&seen.lock);
    rc_manager_enqueue(m, 0, "ns/block", 0);
    pthread_mutex_lock(&seen.lock);
    while (!seen.block_started)
        pthread_cond_wait(&seen.changed, &seen.lock);
    pthread_mutex_unlock(&seen.lock);
    rc_manager_enqueue(m, 0, "ns/waiting", 0); /* must be dropped */
    rc_manager_unlead(m);
    pthread_mutex_lock(&seen.lock);
    seen.not_leading = 1;
    cr_expect(seen.block_saw_cancel, "the running reconcile saw cancel");
    seen.block_saw_cancel = 0;
    pthread_mutex_unlock(&seen.lock);
    cr_expect_eq(rc_manager_leading(m), 0);
    /* events and adds while not leading go nowhere */
    ev = thing("event-while-follower");
    rc_manager_event(m, "Thing", ev);
    json_decref(ev);
    rc_manager_enqueue(m, 0, "ns/added-while-follower", 0);
}

Test(rc_manager, lease_lost_and_regained_twice)
{
    struct kube_store *s = NULL;
    struct rc_manager *m;
    struct kube_err err = {0};
    json_t *ev = thing("from-event");

    cr_assert_eq(kube_store_new(&s), KUBE_OK);
    cr_assert_eq(kube_store_put_new(s, thing("stored")), KUBE_OK);
    m = new_manager(s);
    for (int term = 1; term <= 3; term++) {
        pthread_mutex_lock(&seen.lock);
        seen.not_leading = 0;
        pthread_mutex_unlock(&seen.lock);
        cr_assert_eq(rc_manager_lead(m, &err), KUBE_OK, "%s", err.msg);
        cr_expect_eq(rc_manager_lead(m, &err), KUBE_EINVAL, "one term");
        wait_count("ns/stored", term); /* a new term lists the store */
        rc_manager_event(m, "Thing", ev);
        wait_count("ns/from-event", term);
        if (term < 3)
            lose_lease(m);
    }
    pthread_mutex_lock(&seen.lock);
    cr_expect_eq(seen.violations, 0, "reconciles while not leading");
    pthread_mutex_unlock(&seen.lock);
    cr_expect_eq(count("ns/waiting"), 0, "waiting keys are not drained");
    cr_expect_eq(count("ns/event-while-follower"), 0);
    cr_expect_eq(count("ns/added-while-follower"), 0);
    cr_expect_eq(count("ns/block"), 2);
    rc_manager_free(m); /* ends the third term */
    json_decref(ev);
    kube_store_free(s);
}

Test(rc_manager, noretry_is_not_retried)
{
    static const struct {
        const char *key, *last;
        int runs_before_last; /* runs of key once "last" runs */
    } cases[] = {
        {"ns/bad", "ns/last-bad", 1},   /* RC_NORETRY */
        {"ns/fail", "ns/last-fail", 2}, /* < 0: retried at once */
    };
    struct rc_manager *m = new_manager(NULL);
    struct rc_manager_stats st;
    struct kube_err err = {0};

    cr_assert_eq(rc_manager_lead(m, &err), KUBE_OK, "%s", err.msg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc_manager_enqueue(m, 0, cases[i].key, 0);
        wait_count(cases[i].last, 1);
        /* a retried key keeps running after "last": at least */
        if (cases[i].runs_before_last == 1)
            cr_expect_eq(count(cases[i].key), 1, "%s", cases[i].key);
        else
            cr_expect_geq(count(cases[i].key), cases[i].runs_before_last, "%s",
                          cases[i].key);
    }
    rc_manager_stats(m, 0, &st);
    cr_expect_eq(st.noretry, 1);
    cr_expect_geq(st.failures, 1);
    rc_manager_free(m);
}

Test(rc_manager, key_split_table)
{
    static const struct {
        const char *key, *ns, *name;
        int rc;
    } cases[] = {
        {"default/my-vm", "default", "my-vm", KUBE_OK},
        {"cluster-scoped", "", "cluster-scoped", KUBE_OK},
        {"ns/", "", "", KUBE_EINVAL},
        {"a/b/c", "", "", KUBE_EINVAL},
        {"", "", "", KUBE_EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ns[RC_NAME_MAX], name[RC_NAME_MAX];
        int rc = rc_key_split(ns, name, cases[i].key);

        cr_expect_eq(rc, cases[i].rc, "%s: rc %d", cases[i].key, rc);
        if (rc == KUBE_OK) {
            cr_expect_str_eq(ns, cases[i].ns, "%s", cases[i].key);
            cr_expect_str_eq(name, cases[i].name, "%s", cases[i].key);
        }
    }
}
