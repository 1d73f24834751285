/*
 * The "portres" WINEDEBUG channel
 *
 * Messages go through ntdll's __wine_dbg_output, present in every Wine
 * process (behaviour §5), so they interleave with Wine's own; on Windows, where
 * it is absent, nothing is printed.  err and warn are on by default;
 * WINEDEBUG=+portres (or +winsock, the channel of Wine's own ws2_32) adds
 * trace, -portres or -all silences it.
 */

#ifndef PORTRES_DEBUG_H
#define PORTRES_DEBUG_H

enum portres_dbg_class { PORTRES_DBG_ERR, PORTRES_DBG_WARN, PORTRES_DBG_TRACE };

int portres_dbg_on( enum portres_dbg_class cls );
void portres_dbg_printf( enum portres_dbg_class cls, const char *func, const char *fmt, ... )
    __attribute__((format(printf, 3, 4)));

#define PORTRES_DBG( cls, ... ) \
    do { if (portres_dbg_on( cls )) portres_dbg_printf( cls, __func__, __VA_ARGS__ ); } while (0)
#define ERR( ... )   PORTRES_DBG( PORTRES_DBG_ERR, __VA_ARGS__ )
#define WARN( ... )  PORTRES_DBG( PORTRES_DBG_WARN, __VA_ARGS__ )
#define TRACE( ... ) PORTRES_DBG( PORTRES_DBG_TRACE, __VA_ARGS__ )

#endif /* PORTRES_DEBUG_H */
