/*
 * insn_plugin.c - a qemu TCG plugin that counts executed guest instructions.
 *
 * Build: cc -shared -fPIC -O2 -o insn_plugin.so insn_plugin.c
 * Use:   qemu-mips -plugin ./insn_plugin.so[,out=FILE] PROGRAM ...
 * At exit it writes "insns N" to FILE, or else to qemu's plugin log (shown with -d plugin).
 *
 * The plugin API's declarations are in qemu_plugin_api.h (Debian's qemu 7.2 ships
 * none). Counting is inline (no helper call per block), so the count is exact for a
 * single-threaded guest; it counts every guest instruction, startup included,
 * which is why the bench subtracts a baseline run.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "qemu_plugin_api.h"

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
