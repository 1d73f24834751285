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
 *   decision(ref) ok()   a check whose expectation is a decision of this
 *                        project ([dec] in doc/behaviour.md; ref names the
 *                        section): counted apart, a failure under Wine, but
 *                        on Windows "Decision contradicted (ref)" instead
 *   winetest_self_command(buf, size)  the quoted command line that starts
 *                        this test again ("PROGRAM" or, in the kit,
 *                        "portres_test.exe" --run NAME), arguments to follow
 *
 * Running under Wine is told by ntdll's wine_get_version, or by the
 * environment variable WINETEST_PLATFORM ("windows" or "wine") as in Wine.
 *
 * win_skip(), as in Wine, is a skip on Windows and a failure under Wine:
 * for what Windows may lack (e.g. administrator rights) but Wine with
 * portres must have.
 *
 * Built with WINETEST_KIT defined (tests/kit), START_TEST(name) defines
 * winetest_main_name(argc, argv, self) for the conformance kit instead of
 * main(); argv[1...] are then the arguments after the test's name.
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
static LONG winetest_decisions, winetest_contradicted;
static int winetest_todo_level;
static int winetest_argc;
static char **winetest_argv;
static const char *winetest_self;       /* the kit's command for this test, NULL standalone */
static __thread const char *winetest_decision;  /* the [dec] reference of the checks in scope */

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

static inline int winetest_is_wine( void );

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
    if (winetest_decision) InterlockedIncrement( &winetest_decisions );
    if (cond) { InterlockedIncrement( &winetest_successes ); return 1; }
    if (winetest_decision && !winetest_is_wine())
    {
        char kind[160];

        snprintf( kind, sizeof(kind), "Decision contradicted (%s): ", winetest_decision );
        va_start( args, fmt );
        winetest_vprint( file, line, kind, fmt, args );
        va_end( args );
        InterlockedIncrement( &winetest_contradicted );
        return 0;
    }
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
        char platform[16];

        /* WINETEST_PLATFORM=windows|wine overrides, as in Wine's tests */
        if (GetEnvironmentVariableA( "WINETEST_PLATFORM", platform, sizeof(platform) ) - 1 < sizeof(platform) - 1)
            is_wine = !strcmp( platform, "wine" );
        else
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

/* "PROGRAM" quoted, or the kit's "portres_test.exe" --run NAME */
static inline void winetest_self_command( char *buf, size_t size )
{
    if (winetest_self) snprintf( buf, size, "%s", winetest_self );
    else snprintf( buf, size, "\"%s\"", winetest_argv[0] );
}

#define ok(cond, ...)    winetest_ok( __FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__ )
#define skip(...)        winetest_msg( __FILE__, __LINE__, 1, __VA_ARGS__ )
#define win_skip(...)    do { if (winetest_is_wine()) ok( 0, __VA_ARGS__ ); else skip( __VA_ARGS__ ); } while (0)
#define trace(...)       winetest_msg( __FILE__, __LINE__, 0, __VA_ARGS__ )
#define todo_if(cond)    for (int winetest_t = !!(cond), winetest_once = (winetest_todo_level += winetest_t, 1); \
                              winetest_once; winetest_todo_level -= winetest_t, winetest_once = 0)
#define todo_wine        todo_if( winetest_is_wine() )
#define todo_wine_if(cond) todo_if( (cond) && winetest_is_wine() )
#define decision(ref)    for (const char *winetest_d_prev = winetest_decision, *winetest_d_once = (winetest_decision = (ref), ""); \
                              winetest_d_once; winetest_decision = winetest_d_prev, winetest_d_once = NULL)

/* run one test: its checks, then Wine's summary line and, when it has
 * decision checks, "NAME: D decision checks, C contradicted by this
 * system."; the failure count, at most 255 */
static inline int winetest_main( const char *name, int argc, char **argv, void (*run)( void ) )
{
    LONG failures;

    winetest_argc = argc;
    winetest_argv = argv;
    run();
    failures = winetest_failures;
    printf( "%s: %ld tests executed (%ld marked as todo, %ld %s), %ld skipped.\n", name,
            winetest_successes + winetest_failures + winetest_todo_successes + winetest_contradicted,
            winetest_todo_successes, failures, failures == 1 ? "failure" : "failures", winetest_skipped );
    if (winetest_decisions)
        printf( "%s: %ld decision checks, %ld contradicted by this system.\n", name, winetest_decisions,
                winetest_contradicted );
    fflush( stdout );
    return failures > 255 ? 255 : (int)failures;
}

#ifdef WINETEST_KIT
#define START_TEST(name) \
    static void winetest_run_##name( void ); \
    int winetest_main_##name( int argc, char **argv, const char *self ); \
    int winetest_main_##name( int argc, char **argv, const char *self ) \
    { \
        winetest_self = self; \
        return winetest_main( #name, argc, argv, winetest_run_##name ); \
    } \
    static void winetest_run_##name( void )
#else

#define START_TEST(name) \
    static void winetest_run_##name( void ); \
    int main( int argc, char **argv ) \
    { \
        return winetest_main( #name, argc, argv, winetest_run_##name ); \
    } \
    static void winetest_run_##name( void )
#endif

#endif /* PORTRES_TEST_H */
