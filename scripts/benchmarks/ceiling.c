/* ceiling.c: the no-crypto FUSE ceiling for recfs's read benchmark. A minimal libfuse3
 * low-level filesystem serving one file ("file", SIZE bytes of a fixed pattern) from memory,
 * with the same 4 MiB max_readahead recfs asks for. Usage: ceiling MOUNTPOINT SIZE */
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *data;
static size_t size;

static void fill(fuse_ino_t ino, struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    if (ino == 1) { st->st_mode = S_IFDIR | 0555; st->st_nlink = 2; }
    else { st->st_mode = S_IFREG | 0444; st->st_nlink = 1; st->st_size = size; }
}

static void op_init(void *userdata, struct fuse_conn_info *conn) { (void)userdata; conn->max_readahead = 4 << 20; }

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    if (parent != 1 || strcmp(name, "file") != 0) { fuse_reply_err(req, ENOENT); return; }
    struct fuse_entry_param e = { .ino = 2, .attr_timeout = 3600, .entry_timeout = 3600 };
    fill(2, &e.attr);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    struct stat st;
    fill(ino, &st);
    fuse_reply_attr(req, &st, 3600);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    if (ino != 2) { fuse_reply_err(req, EISDIR); return; }
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t n, off_t off, struct fuse_file_info *fi) {
    (void)ino; (void)fi;
    if ((size_t)off >= size) { fuse_reply_buf(req, NULL, 0); return; }
    if (n > size - off) n = size - off;
    fuse_reply_buf(req, data + off, n);
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    size = strtoull(argv[2], NULL, 10);
    data = malloc(size);
    for (size_t i = 0; i < size; i++) data[i] = (char)(i * 31 + (i >> 12));
    struct fuse_lowlevel_ops ops = { .init = op_init, .lookup = op_lookup, .getattr = op_getattr, .open = op_open, .read = op_read };
    char *args_v[] = { argv[0], "-o", "fsname=ceiling", NULL };
    struct fuse_args args = FUSE_ARGS_INIT(3, args_v);
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
    if (!se || fuse_set_signal_handlers(se) || fuse_session_mount(se, argv[1])) return 1;
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    int r = fuse_session_loop_mt(se, cfg);
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    return r ? 1 : 0;
}
