/*
 * The "portres" WINEDEBUG channel (see debug.h)
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "debug.h"
#include "wine.h"

static const char *const class_names[] = { "err", "warn", "trace" };  /* by enum portres_dbg_class */
static int (__cdecl *wine_dbg_output)( const char * );
static int dbg_flags = -1;  /* bit per class; -1: not yet parsed */

/* apply WINEDEBUG items ("[class]+|-channel", comma-separated) to the portres channel */
static int parse_winedebug( const char *spec )
{
    int flags = (1 << PORTRES_DBG_ERR) | (1 << PORTRES_DBG_WARN);
    char buf[1024], *item, *ctx;

    if (!spec) return flags;
    snprintf( buf, sizeof(buf), "%s", spec );
    for (item = strtok_s( buf, ",", &ctx ); item; item = strtok_s( NULL, ",", &ctx ))
    {
        char *op = strpbrk( item, "+-" );
        int mask = 0;
        if (!op) continue;
        /* +winsock too: a user tracing Wine's Winsock sees portres's part of it */
        if (strcmp( op + 1, "portres" ) && strcmp( op + 1, "winsock" ) && strcmp( op + 1, "all" )) continue;
        if (op == item) mask = ~0;
        else for (unsigned int i = 0; i < ARRAYSIZE(class_names); i++)
            if ((size_t)(op - item) == strlen( class_names[i] ) && !strncmp( item, class_names[i], op - item ))
                mask = 1 << i;
        if (!strncmp( item, "fixme", op - item ) && op - item == 5) continue;
        if (*op == '+') flags |= mask;
        else flags &= ~mask;
    }
    return flags & ((1 << ARRAYSIZE(class_names)) - 1);
}

/* portres_dbg_on: 1 if messages of class cls are to be printed */
int portres_dbg_on( enum portres_dbg_class cls )
{
    if (dbg_flags == -1)
    {
        char spec[1024];
        DWORD len = GetEnvironmentVariableA( "WINEDEBUG", spec, sizeof(spec) );

        wine_dbg_output = wine_dbg_output_fn();
        dbg_flags = wine_dbg_output ? parse_winedebug( len && len < sizeof(spec) ? spec : NULL ) : 0;
    }
    return (dbg_flags >> cls) & 1;
}

/* portres_dbg_printf: print one message in Wine's format "tid:class:portres:func text" */
void portres_dbg_printf( enum portres_dbg_class cls, const char *func, const char *fmt, ... )
{
    char buf[1024];
    int n;
    va_list args;

    if (!wine_dbg_output) return;
    n = snprintf( buf, sizeof(buf), "%04lx:%s:portres:%s ", GetCurrentThreadId(), class_names[cls], func );
    if (n < 0 || n >= (int)sizeof(buf)) return;
    va_start( args, fmt );
    vsnprintf( buf + n, sizeof(buf) - n, fmt, args );
    va_end( args );
    wine_dbg_output( buf );
}
