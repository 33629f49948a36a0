#ifndef HOOKLINE_CLIBPQ_SHIM_H
#define HOOKLINE_CLIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
