/*
 * prof_plugin.c - a qemu TCG plugin that attributes executed guest
 * instructions to the guest's symbols, per guest thread, and counts syscalls
 * per thread. Used by tests/bench/prof_dp.py (make profile-dp).
 *
 * Build: cc -shared -fPIC -O2 -o prof_plugin.so prof_plugin.c
 * Use:   qemu-mips -plugin ./prof_plugin.so,syms=SYMS,out=OUT PROGRAM ...
 *   SYMS: lines "start size name leaf" (hex, hex, text, 0/1; from `nm -S -n
 *         --defined-only` of a static binary, code symbols only), sorted by
 *         start. A leaf (memcpy, memset...) is charged to its caller too: the
 *         last non-leaf symbol the thread ran before it.
 *   OUT:  at exit, "insn VCPU NAME COUNT" for every symbol a thread ran
 *         (NAME "?" outside every symbol), "leaf VCPU NAME CALLER COUNT" and
 *         "sys VCPU NUMBER COUNT".
 * In qemu-user each guest thread is its own vCPU, numbered in creation order
 * (the main thread is 0), and runs on its own host thread: the counters are
 * per vCPU, so the plugin needs no atomics and loses no counts.
 *
 * The plugin API's declarations are in qemu_plugin_api.h (Debian's qemu 7.2
 * ships no qemu-plugin.h).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

/* ---- the plugin ---- */

#define MAX_VCPUS 16
#define MAX_SYSCALL 8192    /* o32 MIPS numbers start at 4000 */

struct sym {
    uint64_t start, end;
    char *name;
    int leaf;
};

/* A translated block's instructions, grouped by the symbol they belong to. */
struct tb_rec {
    uint32_t n;
    struct {
        uint32_t sym, insns;
    } part[];
};

static struct sym *syms;
static uint32_t n_syms;         /* syms[n_syms] is "?", outside every symbol */
static uint64_t *insns[MAX_VCPUS];
static uint64_t *sys_count[MAX_VCPUS];
/* Per vCPU: the last non-leaf symbol, and leaf instructions by (leaf, caller). */
#define LEAF_SLOTS 4096
static uint32_t caller[MAX_VCPUS];
static struct leaf_count {
    uint32_t leaf, caller;
    uint64_t count;
} *leaf_counts[MAX_VCPUS];
static const char *out_path;

static uint32_t find_sym(uint64_t pc)
{
    uint32_t lo = 0, hi = n_syms;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (syms[mid].start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && pc < syms[lo - 1].end ? lo - 1 : n_syms;
}

static int load_syms(const char *path)
{
    FILE *f = fopen(path, "r");
    char name[512];
    uint64_t start, size;
    int leaf;
    uint32_t cap = 1024;

    if (f == NULL)
        return -1;
    syms = malloc(cap * sizeof(*syms));
    while (syms != NULL && fscanf(f, "%" SCNx64 " %" SCNx64 " %511s %d", &start, &size, name, &leaf) == 4) {
        if (n_syms + 1 == cap)
            syms = realloc(syms, (cap *= 2) * sizeof(*syms));
        if (syms == NULL)
            break;
        syms[n_syms].start = start;
        syms[n_syms].end = start + size;
        syms[n_syms].leaf = leaf;
        syms[n_syms++].name = strdup(name);
    }
    fclose(f);
    if (syms == NULL)
        return -1;
    syms[n_syms].name = "?";
    syms[n_syms].leaf = 0;
    return 0;
}

/* Open addressing on (leaf, caller); a full table drops counts (never seen). */
static void count_leaf(unsigned int vcpu, uint32_t leaf, uint64_t n)
{
    struct leaf_count *t = leaf_counts[vcpu];
    uint32_t h = (leaf * 2654435761u ^ caller[vcpu] * 40503u) % LEAF_SLOTS, i;
    for (i = 0; i < LEAF_SLOTS; i++, h = (h + 1) % LEAF_SLOTS) {
        if (t[h].count == 0) {
            t[h].leaf = leaf;
            t[h].caller = caller[vcpu];
        }
        if (t[h].leaf == leaf && t[h].caller == caller[vcpu]) {
            t[h].count += n;
            return;
        }
    }
}

static void tb_exec(unsigned int vcpu, void *udata)
{
    const struct tb_rec *r = udata;
    uint64_t *c;
    uint32_t i;

    if (vcpu >= MAX_VCPUS)
        return;
    c = insns[vcpu];
    for (i = 0; i < r->n; i++) {
        uint32_t s = r->part[i].sym;
        c[s] += r->part[i].insns;
        if (syms[s].leaf)
            count_leaf(vcpu, s, r->part[i].insns);
        else if (s != n_syms)   /* not a stub outside every symbol (ARM's .iplt) */
            caller[vcpu] = s;
    }
}

/* At translation time: which symbols the block's instructions belong to. */
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb), i;
    struct tb_rec *r = calloc(1, sizeof(*r) + n * sizeof(r->part[0]));
    (void)id;
    if (r == NULL)
        return;
    for (i = 0; i < n; i++) {
        uint32_t s = find_sym(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i)));
        if (r->n == 0 || r->part[r->n - 1].sym != s) {
            r->part[r->n].sym = s;
            r->part[r->n++].insns = 0;
        }
        r->part[r->n - 1].insns++;
    }
    /* Records live as long as qemu may run the block: never freed. */
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, r);
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
                       uint64_t a7, uint64_t a8)
{
    (void)id; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7; (void)a8;
    if (vcpu < MAX_VCPUS && num >= 0 && num < MAX_SYSCALL)
        sys_count[vcpu][num]++;
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
    FILE *f = out_path ? fopen(out_path, "w") : NULL;
    unsigned int v;
    uint32_t s;
    (void)id;
    (void)userdata;
    if (f == NULL)
        return;
    for (v = 0; v < MAX_VCPUS; v++) {
        for (s = 0; s <= n_syms; s++)
            if (insns[v][s])
                fprintf(f, "insn %u %s %" PRIu64 "\n", v, syms[s].name, insns[v][s]);
        for (s = 0; s < LEAF_SLOTS; s++)
            if (leaf_counts[v][s].count)
                fprintf(f, "leaf %u %s %s %" PRIu64 "\n", v, syms[leaf_counts[v][s].leaf].name,
                        syms[leaf_counts[v][s].caller].name, leaf_counts[v][s].count);
        for (s = 0; s < MAX_SYSCALL; s++)
            if (sys_count[v][s])
                fprintf(f, "sys %u %u %" PRIu64 "\n", v, s, sys_count[v][s]);
    }
    fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    const char *syms_path = NULL;
    unsigned int v;

    if (info->version.min > QEMU_PLUGIN_VERSION) {
        fprintf(stderr, "prof_plugin: qemu needs plugin API >= %d, this is %d\n",
                info->version.min, QEMU_PLUGIN_VERSION);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0)
            out_path = argv[i] + 4;
        else if (strncmp(argv[i], "syms=", 5) == 0)
            syms_path = argv[i] + 5;
    }
    if (syms_path == NULL || out_path == NULL || load_syms(syms_path) != 0) {
        fprintf(stderr, "prof_plugin: needs syms=FILE (readable) and out=FILE\n");
        return -1;
    }
    for (v = 0; v < MAX_VCPUS; v++) {
        insns[v] = calloc(n_syms + 1, sizeof(uint64_t));
        sys_count[v] = calloc(MAX_SYSCALL, sizeof(uint64_t));
        leaf_counts[v] = calloc(LEAF_SLOTS, sizeof(struct leaf_count));
        caller[v] = n_syms;
        if (insns[v] == NULL || sys_count[v] == NULL || leaf_counts[v] == NULL)
            return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
