/*
 * map_proxy - what the proxy: table type (map_proxy.c) and the proxymap
 * service (src/proxymap) share: the service name and the constants of
 * their conversation (docs/protocols.md, "proxymap").
 *
 *   client -> proxymap: request=lookup table=TYPE:NAME flags=F key=K
 *   proxymap -> client: status=S value=V [reason=R]
 *
 * F is the caller's MAP_FLAG_FOLD, MAP_FLAG_NUL and MAP_FLAG_NO_NUL bits
 * (PROXY_MAP_FLAGS); S is one of PROXY_STAT_*; R explains PROXY_STAT_RETRY.
 */
#ifndef POSTERN_MAP_PROXY_H
#define POSTERN_MAP_PROXY_H

#include "map.h"

#define PROXY_SERVICE       "proxymap"          /* private/proxymap */
#define PROXY_PREFIX        "proxy:"
#define PROXY_REQUEST_LOOKUP "lookup"

#define PROXY_MAP_FLAGS     (MAP_FLAG_FOLD | MAP_FLAG_NUL | MAP_FLAG_NO_NUL)

#define PROXY_STAT_OK       0                   /* found: value */
#define PROXY_STAT_NOKEY    1                   /* not found */
#define PROXY_STAT_RETRY    2                   /* unknown now: reason */

#endif
