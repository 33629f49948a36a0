#ifndef HOOKLINE_CLIBPQ_SHIM_H
#define HOOKLINE_CLIBPQ_SHIM_H

// pkg-config normally puts libpq's include directory on the path; Debian's layout is the fallback.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

#endif
