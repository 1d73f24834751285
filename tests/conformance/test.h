/*
 * test.h - a small Wine-style test harness for portres's conformance tests
 *
 * Written for portres in the manner of Wine's include/wine/test.h (not a
 * copy of it).  A test file includes this header once, defines its checks
 * as plain functions and ends with
 *
 *     START_TEST(name) { test_a(); test_b(); }
 *
 * which defines main() and prints Wine's summary line
 *     "name: N tests executed (T marked as todo, F failures), S skipped."
 * The exit code is the failure count, at most 255.
 *
 *   ok(cond, fmt, ...)   one check; "file:line: Test failed: msg" if false
 *   skip(fmt, ...)       "file:line: Tests skipped: msg", counted
 *   win_skip(fmt, ...)   the same
 *   trace(fmt, ...)      "file:line: msg"
 *   todo_if(cond) ok()   a known failure: counted as todo while it fails,
 *                        as a failure once it passes ("Test succeeded
 *                        inside todo block")
 *   todo_wine ok()       todo_if(running under Wine)
 *   todo_wine_if(cond) ok()  todo_if(cond and running under Wine): a known
 *                        failure of Wine (or portres) in some cases only
 *   broken(cond)         cond on Windows, FALSE under Wine: for an answer
 *                        some Windows versions give that Wine must not
 *                        ("ok( ret == X || broken( ret == Y ), ...)")
 *   winetest_push_context(fmt, ...)  a prefix, "file:line: Test failed:
 *                        CONTEXT: msg", for this thread's checks, skips
 *                        and traces until the matching
 *   winetest_pop_context()  (nested ones are printed outermost first)
 *   winetest_get_mainargs(&argv)  argc and argv, for child processes
 */

#ifndef PORTRES_TEST_H
#define PORTRES_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#ifdef __MINGW_PRINTF_FORMAT
#define WINETEST_PRINTF(a, b) __attribute__((format(__MINGW_PRINTF_FORMAT, a, b)))
#elif defined(__GNUC__)
#define WINETEST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WINETEST_PRINTF(a, b)
#endif

static LONG winetest_successes, winetest_failures, winetest_todo_successes, winetest_skipped;
static int winetest_todo_level;
static int winetest_argc;
static char **winetest_argv;

/* the contexts pushed on this thread: at most WINETEST_CONTEXTS are kept
 * (deeper ones are counted, so that pops still match, but not printed) */
#define WINETEST_CONTEXTS     8
#define WINETEST_CONTEXT_SIZE 128
static __thread struct
{
    unsigned int depth;
    char text[WINETEST_CONTEXTS][WINETEST_CONTEXT_SIZE];
} winetest_context;

static inline const char *winetest_file( const char *file )
{
    const char *p = strrchr( file, '/' ), *q = strrchr( file, '\\' );
    if (q > p) p = q;
    return p ? p + 1 : file;
}

/* "file:line: KIND CONTEXT: ...: msg", as one write */
static inline void winetest_vprint( const char *file, int line, const char *kind, const char *fmt, va_list args )
{
    char buf[2048];
    size_t len;
    unsigned int i;

    len = snprintf( buf, sizeof(buf), "%s:%d: %s", winetest_file( file ), line, kind );
    for (i = 0; i < winetest_context.depth && i < WINETEST_CONTEXTS && len < sizeof(buf); i++)
        len += snprintf( buf + len, sizeof(buf) - len, "%s: ", winetest_context.text[i] );
    if (len < sizeof(buf)) vsnprintf( buf + len, sizeof(buf) - len, fmt, args );
    buf[sizeof(buf) - 1] = 0;
    fputs( buf, stdout );
    fflush( stdout );
}

static inline WINETEST_PRINTF(4, 5) int winetest_ok( const char *file, int line, int cond, const char *fmt, ... )
{
    va_list args;

    if (winetest_todo_level)
    {
        if (!cond) { InterlockedIncrement( &winetest_todo_successes ); return 0; }
        va_start( args, fmt );
        winetest_vprint( file, line, "Test succeeded inside todo block: ", fmt, args );
        va_end( args );
        InterlockedIncrement( &winetest_failures );
        return 1;
    }
    if (cond) { InterlockedIncrement( &winetest_successes ); return 1; }
    va_start( args, fmt );
    winetest_vprint( file, line, "Test failed: ", fmt, args );
    va_end( args );
    InterlockedIncrement( &winetest_failures );
    return 0;
}

static inline WINETEST_PRINTF(4, 5) void winetest_msg( const char *file, int line, int skipped, const char *fmt, ... )
{
    va_list args;
    va_start( args, fmt );
    winetest_vprint( file, line, skipped ? "Tests skipped: " : "", fmt, args );
    va_end( args );
    if (skipped) InterlockedIncrement( &winetest_skipped );
}

static inline int winetest_is_wine( void )
{
    static int is_wine = -1;

    if (is_wine == -1)
    {
        HMODULE ntdll = GetModuleHandleA( "ntdll.dll" );
        is_wine = ntdll && GetProcAddress( ntdll, "wine_get_version" );
    }
    return is_wine;
}

static inline int broken( int cond )
{
    return !winetest_is_wine() && cond;
}

static inline WINETEST_PRINTF(1, 2) void winetest_push_context( const char *fmt, ... )
{
    va_list args;

    if (winetest_context.depth < WINETEST_CONTEXTS)
    {
        char *text = winetest_context.text[winetest_context.depth];
        va_start( args, fmt );
        vsnprintf( text, WINETEST_CONTEXT_SIZE, fmt, args );
        va_end( args );
        text[WINETEST_CONTEXT_SIZE - 1] = 0;
    }
    winetest_context.depth++;
}

static inline void winetest_pop_context( void )
{
    if (winetest_context.depth) winetest_context.depth--;
}

static inline int winetest_get_mainargs( char ***argv )
{
    *argv = winetest_argv;
    return winetest_argc;
}

#define ok(cond, ...)    winetest_ok( __FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__ )
#define skip(...)        winetest_msg( __FILE__, __LINE__, 1, __VA_ARGS__ )
#define win_skip(...)    winetest_msg( __FILE__, __LINE__, 1, __VA_ARGS__ )
#define trace(...)       winetest_msg( __FILE__, __LINE__, 0, __VA_ARGS__ )
#define todo_if(cond)    for (int winetest_t = !!(cond), winetest_once = (winetest_todo_level += winetest_t, 1); \
                              winetest_once; winetest_todo_level -= winetest_t, winetest_once = 0)
#define todo_wine        todo_if( winetest_is_wine() )
#define todo_wine_if(cond) todo_if( (cond) && winetest_is_wine() )

#define START_TEST(name) \
    static void winetest_run_##name( void ); \
    int main( int argc, char **argv ) \
    { \
        LONG failures; \
        winetest_argc = argc; \
        winetest_argv = argv; \
        winetest_run_##name(); \
        failures = winetest_failures; \
        printf( "%s: %ld tests executed (%ld marked as todo, %ld %s), %ld skipped.\n", #name, \
                winetest_successes + winetest_failures + winetest_todo_successes, winetest_todo_successes, \
                failures, failures == 1 ? "failure" : "failures", winetest_skipped ); \
        fflush( stdout ); \
        return failures > 255 ? 255 : (int)failures; \
    } \
    static void winetest_run_##name( void )

#endif /* PORTRES_TEST_H */
