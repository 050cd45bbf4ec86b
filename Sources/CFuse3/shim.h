// CFuse3: libfuse3's low-level (inode-based) API.
#ifndef RECFS_CFUSE3_SHIM_H
#define RECFS_CFUSE3_SHIM_H
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <sys/xattr.h>
#include <sys/statvfs.h>
#include <sys/mount.h>
#include <linux/fuse.h>
#include "ring.h"
#endif
