/*
 * insn_plugin.c - a qemu TCG plugin that counts executed guest instructions.
 *
 * Build: cc -shared -fPIC -O2 -o insn_plugin.so insn_plugin.c
 * Use:   qemu-mips -plugin ./insn_plugin.so[,out=FILE] PROGRAM ...
 * At exit it writes "insns N" to FILE, or else to qemu's plugin log (shown with -d plugin).
 *
 * Debian's qemu 7.2 ships plugin support in qemu-user but no qemu-plugin.h, so the
 * few declarations used are written out here, matching the plugin ABI of qemu 7.2
 * (QEMU_PLUGIN_VERSION 1: the inline op takes (tb, op, ptr, imm), one counter).
 * Counting is inline (no helper call per block), so the count is exact for a
 * single-threaded guest; it counts every guest instruction, startup included,
 * which is why the bench subtracts a baseline run.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- the subset of qemu-plugin.h (qemu 7.2, API version 1) used here ---- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_VERSION 1

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

struct qemu_plugin_tb;

enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv);

/* ---- the plugin ---- */

static uint64_t insn_count;
static const char *out_path;

/* At translation time: add the block's instruction count every time it runs. */
static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insn_count,
                                             qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[64];
    (void)id;
    (void)userdata;
    snprintf(line, sizeof line, "insns %" PRIu64 "\n", insn_count);
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (f) {
            fputs(line, f);
            fclose(f);
            return;
        }
    }
    qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    if (info->version.min > QEMU_PLUGIN_VERSION) {
        fprintf(stderr, "insn_plugin: qemu needs plugin API >= %d, this is %d\n",
                info->version.min, QEMU_PLUGIN_VERSION);
        return -1;
    }
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0)
            out_path = argv[i] + 4;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
