// CLame: libmp3lame's encoder API.
#ifndef RECFS_CLAME_SHIM_H
#define RECFS_CLAME_SHIM_H
#include <lame/lame.h>
#endif
