/*
 * portres_test.exe - the conformance kit: every test of tests/conformance
 * in one program, for Windows and for Wine
 *
 *   portres_test.exe [--report FILE] [--timeout SECONDS] [TEST...]
 *   portres_test.exe --list
 *   portres_test.exe --run TEST [ARGS...]
 *
 * It reports the environment first (Windows version, architecture,
 * rights, Wine, the modules that answer the reservation functions), then
 * runs each TEST (all without one) in a child process of its own, "--run
 * TEST", as Wine's winetest does, ended after SECONDS (default 300) with
 * everything it started (a job object).  The children's output is passed
 * through; at the end come one line per test, a total, and the checks of
 * project decisions ([dec] in doc/behaviour.md) this system contradicts.
 * --report FILE writes the same to FILE.  The exit code is 0 only when
 * nothing failed; contradicted decisions are not failures on Windows.
 *
 * The tests note each persistent block they create in a ledger
 * (PORTRES_TEST_LEDGER, util.h ledger_note); before the first test and
 * after the last the kit deletes every block the ledger holds, so nothing
 * is left on the machine even when a test fails, crashes or times out.
 *
 * Built with WINETEST_KIT and WINETEST_LIST ("X(badinput) X(crossprocess)
 * ...", from tests/conformance/Makefile.in) by tests/kit/Makefile.in; it
 * imports iphlpapi and ws2_32 delay-loaded, so that a test (loader) can
 * load them itself.
 */

#include <winsock2.h>
#include <windows.h>
#include <iphlpapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PORTRES_VERSION
#define PORTRES_VERSION "?"
#endif

#define X(name) int winetest_main_##name( int argc, char **argv, const char *self );
WINETEST_LIST
#undef X

static const struct test
{
    const char *name;
    int (*main)( int argc, char **argv, const char *self );
} tests[] =
{
#define X(name) { #name, winetest_main_##name },
    WINETEST_LIST
#undef X
};

#define TEST_COUNT (sizeof(tests) / sizeof(tests[0]))
#define MAX_CONTRADICTED 200

/* what one test's child gave */
struct result
{
    BOOL ran, summary, timed_out;
    long executed, todo, failures, skipped, decisions, contradicted;
    DWORD exit_code, ms;
};

static struct result results[TEST_COUNT];
static char *contradicted[MAX_CONTRADICTED];
static unsigned int contradicted_count, contradicted_lost;
static FILE *report;
static char exe_path[MAX_PATH];      /* for the tests' own children (ANSI, as their argv[0]) */
static WCHAR exe_path_w[MAX_PATH];

/* print to the console and to the report file */
static void __attribute__((format(__MINGW_PRINTF_FORMAT, 1, 2))) out( const char *fmt, ... )
{
    va_list args;

    va_start( args, fmt );
    vprintf( fmt, args );
    va_end( args );
    fflush( stdout );
    if (!report) return;
    va_start( args, fmt );
    vfprintf( report, fmt, args );
    va_end( args );
    fflush( report );
}

static const struct test *find_test( const char *name )
{
    for (unsigned int i = 0; i < TEST_COUNT; i++) if (!strcmp( tests[i].name, name )) return &tests[i];
    return NULL;
}

/* --- the environment --------------------------------------------------------- */

/* TRUE if the loaded module at base holds the bytes "portres_" (every
 * portres DLL names its own functions and messages so) */
static BOOL module_is_portres( HMODULE base )
{
    const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)((const char *)base + dos->e_lfanew);
    const char *p = (const char *)base, *end = p + nt->OptionalHeader.SizeOfImage;
    MEMORY_BASIC_INFORMATION info;

    while (p < end && VirtualQuery( p, &info, sizeof(info) ))
    {
        const char *region_end = (const char *)info.BaseAddress + info.RegionSize;
        if (region_end > end) region_end = end;
        if (info.State == MEM_COMMIT && !(info.Protect & (PAGE_NOACCESS | PAGE_GUARD)))
            for (const char *q = p; q + 8 <= region_end; q++) if (!memcmp( q, "portres_", 8 )) return TRUE;
        p = region_end;
    }
    return FALSE;
}

/* "FUNCTION: PATH (portres's|not portres's)" for the module answering it */
static void report_module( const char *dll, const char *function )
{
    HMODULE mod = LoadLibraryA( dll ), owner = NULL;
    FARPROC proc = mod ? GetProcAddress( mod, function ) : NULL;
    char path[MAX_PATH] = "?";

    if (!proc)
    {
        out( "    %s: not exported by %s (error %lu): portres is not installed\n", function, dll, GetLastError() );
        return;
    }
    GetModuleHandleExA( GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                        (const char *)proc, &owner );
    if (owner) GetModuleFileNameA( owner, path, sizeof(path) );
    out( "    %s: %s (%s)\n", function, path, owner && module_is_portres( owner ) ? "portres" : "not portres" );
}

static BOOL is_administrator( BOOL *elevated )
{
    SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
    TOKEN_ELEVATION elevation = { 0 };
    HANDLE token;
    DWORD size;
    PSID sid;
    BOOL member = FALSE;

    *elevated = FALSE;
    if (OpenProcessToken( GetCurrentProcess(), TOKEN_QUERY, &token ))
    {
        if (GetTokenInformation( token, TokenElevation, &elevation, sizeof(elevation), &size ))
            *elevated = elevation.TokenIsElevated != 0;
        CloseHandle( token );
    }
    if (AllocateAndInitializeSid( &nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0,
                                  &sid ))
    {
        if (!CheckTokenMembership( NULL, sid, &member )) member = FALSE;
        FreeSid( sid );
    }
    return member;
}

static void report_environment( void )
{
    LONG (WINAPI *pRtlGetVersion)( RTL_OSVERSIONINFOEXW * );
    const char *(CDECL *pwine_get_version)( void );
    void (CDECL *pwine_get_host_version)( const char **, const char ** );
    HMODULE ntdll = GetModuleHandleA( "ntdll.dll" );
    RTL_OSVERSIONINFOEXW version = { .dwOSVersionInfoSize = sizeof(version) };
    SYSTEM_INFO native;
    BOOL wow64 = FALSE, elevated, admin;
    const char *machine;

    pRtlGetVersion = (void *)GetProcAddress( ntdll, "RtlGetVersion" );
    pwine_get_version = (void *)GetProcAddress( ntdll, "wine_get_version" );
    pwine_get_host_version = (void *)GetProcAddress( ntdll, "wine_get_host_version" );

    out( "portres_test %s: the conformance tests of portres, %u tests\n", PORTRES_VERSION, (unsigned int)TEST_COUNT );
    if (pRtlGetVersion && !pRtlGetVersion( &version ))
        out( "    Windows version %lu.%lu, build %lu%s%ls\n", version.dwMajorVersion, version.dwMinorVersion,
             version.dwBuildNumber, version.szCSDVersion[0] ? ", " : "", version.szCSDVersion );
    GetNativeSystemInfo( &native );
    IsWow64Process( GetCurrentProcess(), &wow64 );
    switch (native.wProcessorArchitecture)
    {
    case PROCESSOR_ARCHITECTURE_AMD64: machine = "x86_64"; break;
    case PROCESSOR_ARCHITECTURE_INTEL: machine = "i386"; break;
    case PROCESSOR_ARCHITECTURE_ARM64: machine = "arm64"; break;
    default: machine = "other"; break;
    }
    out( "    architecture: a %s program on a %s system%s\n", sizeof(void *) == 8 ? "x86_64" : "i386", machine,
         wow64 ? " (WoW64)" : "" );
    admin = is_administrator( &elevated );
    out( "    administrator: %s, elevated: %s%s\n", admin ? "yes" : "no", elevated ? "yes" : "no",
         admin ? "" : " (the checks that need administrator rights are skipped)" );
    if (pwine_get_version)
    {
        const char *sys = "?", *rel = "?";
        if (pwine_get_host_version) pwine_get_host_version( &sys, &rel );
        out( "    Wine: %s on %s %s\n", pwine_get_version(), sys, rel );
    }
    else out( "    Wine: no\n" );
    report_module( "iphlpapi.dll", "CreatePersistentTcpPortReservation" );
    report_module( "ws2_32.dll", "WSAIoctl" );
}

/* --- the ledger of persistent blocks ------------------------------------------- */

struct block { int udp; unsigned int start, count; int net; };

/* delete every block the ledger holds (created, not deleted); WHEN names
 * the pass.  The ledger is removed once nothing in it is left. */
static void cleanup_pass( const char *ledger, const char *when )
{
    static struct block blocks[1024];
    ULONG (WINAPI *pdelete[2])( USHORT, USHORT );
    HMODULE iphlpapi = LoadLibraryA( "iphlpapi.dll" );
    unsigned int count = 0, deleted = 0, left = 0;
    char line[128], proto[8], sign;
    unsigned int start, ports;
    FILE *f = fopen( ledger, "r" );

    if (!f)
    {
        out( "cleanup %s: no ledger %s: no persistent block of the kit to delete\n", when, ledger );
        return;
    }
    while (fgets( line, sizeof(line), f ))
    {
        unsigned int i;

        if (sscanf( line, "%c %7s %u %u", &sign, proto, &start, &ports ) != 4) continue;
        if ((sign != '+' && sign != '-') || !start || !ports || start + ports > 65536) continue;
        for (i = 0; i < count; i++)
            if (blocks[i].udp == !strcmp( proto, "udp" ) && blocks[i].start == start && blocks[i].count == ports) break;
        if (i == count)
        {
            if (count == ARRAYSIZE(blocks)) continue;
            blocks[count++] = (struct block){ !strcmp( proto, "udp" ), start, ports, 0 };
        }
        blocks[i].net += sign == '+' ? 1 : -1;
    }
    fclose( f );

    /* looked up, not imported: a missing export must not end the kit */
    pdelete[0] = iphlpapi ? (void *)GetProcAddress( iphlpapi, "DeletePersistentTcpPortReservation" ) : NULL;
    pdelete[1] = iphlpapi ? (void *)GetProcAddress( iphlpapi, "DeletePersistentUdpPortReservation" ) : NULL;
    for (unsigned int i = 0; i < count; i++)
    {
        ULONG err;

        if (blocks[i].net <= 0) continue;
        err = pdelete[blocks[i].udp] ? pdelete[blocks[i].udp]( htons( blocks[i].start ), blocks[i].count )
                                     : ERROR_PROC_NOT_FOUND;
        if (err == ERROR_NOT_FOUND) continue;
        if (!err)
        {
            out( "cleanup %s: deleted the %s block %u+%u a test left\n", when, blocks[i].udp ? "UDP" : "TCP",
                 blocks[i].start, blocks[i].count );
            deleted++;
        }
        else
        {
            out( "cleanup %s: cannot delete the %s block %u+%u: error %lu\n", when, blocks[i].udp ? "UDP" : "TCP",
                 blocks[i].start, blocks[i].count, err );
            left++;
        }
    }
    out( "cleanup %s: %u persistent blocks of the kit deleted, %u left\n", when, deleted, left );
    if (!left) DeleteFileA( ledger );
}

/* --- running one test ------------------------------------------------------------ */

struct reader
{
    HANDLE pipe;
    struct result *result;
    const char *name;
};

/* one line of a child's output: passed through, and parsed */
static void child_line( struct reader *r, char *line )
{
    long a, b, c, d;
    size_t len = strlen( r->name );
    const char *p;

    out( "%s\n", line );
    if (!strncmp( line, r->name, len ) && line[len] == ':')
    {
        if (sscanf( line + len + 1, " %ld tests executed (%ld marked as todo, %ld failure%*[s]), %ld skipped.", &a, &b,
                    &c, &d ) == 4 ||
            sscanf( line + len + 1, " %ld tests executed (%ld marked as todo, %ld failure), %ld skipped.", &a, &b,
                    &c, &d ) == 4)
        {
            r->result->summary = TRUE;
            r->result->executed = a;
            r->result->todo = b;
            r->result->failures = c;
            r->result->skipped = d;
        }
        else if (sscanf( line + len + 1, " %ld decision checks, %ld contradicted", &a, &b ) == 2)
        {
            r->result->decisions = a;
            r->result->contradicted = b;
        }
    }
    if ((p = strstr( line, ": Decision contradicted (" )))
    {
        if (contradicted_count < MAX_CONTRADICTED)
        {
            char *copy = malloc( strlen( r->name ) + strlen( line ) + 3 );
            if (copy)
            {
                sprintf( copy, "%s %s", r->name, line );
                contradicted[contradicted_count++] = copy;
            }
        }
        else contradicted_lost++;
    }
}

static DWORD WINAPI reader_thread( void *arg )
{
    struct reader *r = arg;
    char buf[4096], line[4096];
    size_t used = 0;
    DWORD got;

    while (ReadFile( r->pipe, buf, sizeof(buf), &got, NULL ) && got)
    {
        for (DWORD i = 0; i < got; i++)
        {
            if (buf[i] == '\r') continue;
            if (buf[i] == '\n' || used == sizeof(line) - 1)
            {
                line[used] = 0;
                child_line( r, line );
                used = 0;
                if (buf[i] == '\n') continue;
            }
            line[used++] = buf[i];
        }
    }
    if (used)
    {
        line[used] = 0;
        child_line( r, line );
    }
    return 0;
}

/* run test in a child "--run NAME", at most timeout_ms, into *result */
static void run_child( const struct test *test, DWORD timeout_ms, struct result *result )
{
    SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = { 0 };
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    struct reader r = { NULL, result, test->name };
    HANDLE out_write, job, thread;
    WCHAR cmd[MAX_PATH + 64];
    DWORD start = GetTickCount();
    BOOL started;

    memset( result, 0, sizeof(*result) );
    result->ran = TRUE;
    result->exit_code = ~0u;
    if (!CreatePipe( &r.pipe, &out_write, &sa, 65536 ))
    {
        out( "%s: cannot create a pipe: error %lu\n", test->name, GetLastError() );
        return;
    }
    SetHandleInformation( r.pipe, HANDLE_FLAG_INHERIT, 0 );
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle( STD_INPUT_HANDLE );
    si.hStdOutput = out_write;
    si.hStdError = out_write;
    swprintf( cmd, ARRAYSIZE(cmd), L"\"%ls\" --run %hs", exe_path_w, test->name );

    job = CreateJobObjectA( NULL, NULL );
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (job) SetInformationJobObject( job, JobObjectExtendedLimitInformation, &limits, sizeof(limits) );
    /* ERROR_INTERNAL_ERROR: under Wine the child died before its start was
     * reported (its loader, not the test); tried once more */
    started = CreateProcessW( NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi );
    if (!started && GetLastError() == ERROR_INTERNAL_ERROR)
    {
        out( "%s: the child died before its start: starting it once more\n", test->name );
        started = CreateProcessW( NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi );
    }
    if (!started)
    {
        out( "%s: cannot start \"%ls\": error %lu\n", test->name, cmd, GetLastError() );
        CloseHandle( out_write );
        CloseHandle( r.pipe );
        if (job) CloseHandle( job );
        return;
    }
    /* without a job (nested jobs refused on old Windows) only the child
     * itself can be ended on time out */
    if (job && !AssignProcessToJobObject( job, pi.hProcess ))
    {
        CloseHandle( job );
        job = NULL;
    }
    CloseHandle( out_write );
    thread = CreateThread( NULL, 0, reader_thread, &r, 0, NULL );
    ResumeThread( pi.hThread );
    CloseHandle( pi.hThread );

    if (WaitForSingleObject( pi.hProcess, timeout_ms ) == WAIT_TIMEOUT)
    {
        result->timed_out = TRUE;
        if (job) TerminateJobObject( job, 0xdead );
        TerminateProcess( pi.hProcess, 0xdead );
        WaitForSingleObject( pi.hProcess, 10000 );
    }
    GetExitCodeProcess( pi.hProcess, &result->exit_code );
    /* what the test started and left running goes with it */
    if (job) TerminateJobObject( job, 0xdead );
    if (thread && WaitForSingleObject( thread, 10000 ) == WAIT_TIMEOUT)
    {
        CancelSynchronousIo( thread );
        WaitForSingleObject( thread, 5000 );
    }
    if (thread) CloseHandle( thread );
    CloseHandle( r.pipe );
    CloseHandle( pi.hProcess );
    if (job) CloseHandle( job );
    result->ms = GetTickCount() - start;
}

/* the failures of a result, counting a time out, a missing summary or an
 * exit code that is not the failure count as one each */
static long result_failures( const struct result *r, const char **why )
{
    long failures = r->failures;

    *why = "";
    if (r->timed_out) { *why = " (timed out)"; return failures + 1; }
    if (!r->summary) { *why = " (no summary line: crashed?)"; return failures + 1; }
    if (r->exit_code != (DWORD)(r->failures > 255 ? 255 : r->failures))
    {
        *why = " (exit code does not match)";
        return failures + 1;
    }
    return failures;
}

/* --- main ------------------------------------------------------------------------ */

static int usage( void )
{
    printf( "usage: portres_test.exe [--report FILE] [--timeout SECONDS] [TEST...]\n"
            "       portres_test.exe --list\n"
            "       portres_test.exe --run TEST [ARGS...]   (one test, in this process)\n" );
    return 2;
}

int main( int argc, char **argv )
{
    const char *report_path = NULL, *selected[TEST_COUNT];
    unsigned int selected_count = 0, passed = 0;
    long executed = 0, failures = 0, todo = 0, skipped = 0, decisions = 0, contra = 0;
    DWORD timeout_s = 300;
    char ledger[MAX_PATH];
    int i;

    GetModuleFileNameA( NULL, exe_path, sizeof(exe_path) );
    GetModuleFileNameW( NULL, exe_path_w, ARRAYSIZE(exe_path_w) );
    for (i = 1; i < argc; i++)
    {
        if (!strcmp( argv[i], "--list" ))
        {
            for (unsigned int j = 0; j < TEST_COUNT; j++) printf( "%s\n", tests[j].name );
            return 0;
        }
        else if (!strcmp( argv[i], "--run" ) && i + 1 < argc)
        {
            const struct test *test = find_test( argv[i + 1] );
            char self[MAX_PATH + 64];

            if (!test) { fprintf( stderr, "portres_test: no test \"%s\"\n", argv[i + 1] ); return 2; }
            snprintf( self, sizeof(self), "\"%s\" --run %s", exe_path, test->name );
            int ret;
            char linger[16];

            /* the test sees PROGRAM ARGS..., as when it runs alone */
            argv[i + 1] = argv[0];
            ret = test->main( argc - i - 1, argv + i + 1, self );
            /* PORTRES_KIT_LINGER=SECONDS: every test process (the test's
             * children too) stays that long after its work, so that
             * tests/scripts/kit.sh's time limit cannot be beaten by a
             * fast Wine; for that script only */
            if (GetEnvironmentVariableA( "PORTRES_KIT_LINGER", linger, sizeof(linger) ) &&
                strtoul( linger, NULL, 10 ) <= 600)
                Sleep( strtoul( linger, NULL, 10 ) * 1000 );
            return ret;
        }
        else if (!strcmp( argv[i], "--report" ) && i + 1 < argc) report_path = argv[++i];
        else if (!strcmp( argv[i], "--timeout" ) && i + 1 < argc)
        {
            timeout_s = strtoul( argv[++i], NULL, 10 );
            if (!timeout_s) return usage();
        }
        else if (argv[i][0] == '-') return usage();
        else if (!find_test( argv[i] ))
        {
            fprintf( stderr, "portres_test: no test \"%s\" (--list lists them)\n", argv[i] );
            return 2;
        }
        else if (selected_count < TEST_COUNT) selected[selected_count++] = argv[i];
    }
    if (report_path && !(report = fopen( report_path, "w" )))
    {
        fprintf( stderr, "portres_test: cannot write %s\n", report_path );
        return 2;
    }

    report_environment();
    GetTempPathA( sizeof(ledger) - 32, ledger );
    strcat( ledger, "portres_test-ledger.txt" );
    SetEnvironmentVariableA( "PORTRES_TEST_LEDGER", ledger );
    cleanup_pass( ledger, "before" );

    for (unsigned int j = 0; j < TEST_COUNT; j++)
    {
        BOOL chosen = !selected_count;

        for (unsigned int k = 0; k < selected_count; k++) chosen |= !strcmp( selected[k], tests[j].name );
        if (!chosen) continue;
        out( "=== %s\n", tests[j].name );
        run_child( &tests[j], timeout_s * 1000, &results[j] );
    }
    cleanup_pass( ledger, "after" );

    out( "=== results (%s)\n", report_path ? report_path : "add --report FILE for a file" );
    for (unsigned int j = 0; j < TEST_COUNT; j++)
    {
        const struct result *r = &results[j];
        const char *why;
        long f;

        if (!r->ran) continue;
        f = result_failures( r, &why );
        out( "%-13s %5ld tests, %ld failures%s, %ld todo, %ld skipped, %ld decision checks (%ld contradicted), "
             "%lu.%lu s\n", tests[j].name, r->executed, f, why, r->todo, r->skipped, r->decisions, r->contradicted,
             r->ms / 1000, r->ms % 1000 / 100 );
        executed += r->executed;
        failures += f;
        todo += r->todo;
        skipped += r->skipped;
        decisions += r->decisions;
        contra += r->contradicted;
        if (!f) passed++;
    }
    out( "total: %ld tests executed, %ld failures, %ld todo, %ld skipped, %ld decision checks, %ld contradicted; "
         "%u of %u tests passed\n", executed, failures, todo, skipped, decisions, contra, passed,
         selected_count ? selected_count : (unsigned int)TEST_COUNT );
    if (!contradicted_count) out( "decisions contradicted by this system: none\n" );
    else
    {
        out( "decisions contradicted by this system: %u\n", contradicted_count + contradicted_lost );
        for (unsigned int j = 0; j < contradicted_count; j++) out( "    %s\n", contradicted[j] );
        if (contradicted_lost) out( "    (%u more not listed)\n", contradicted_lost );
    }
    if (report) fclose( report );
    return failures ? 1 : 0;
}
