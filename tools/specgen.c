/*
 * specgen - turn a Wine-style .spec file into what the PE linker needs
 *
 * A spec line is
 *     ORDINAL stdcall [-arch=win32|win64] [-noname] [-ret=TYPE] NAME(ARGS...) [HANDLER]
 * ORDINAL is a number or "@" (assigned from the first free ordinal).  An
 * entry with a HANDLER is implemented by this project in the C function of
 * that name; an entry without one is forwarded to Wine's builtin DLL.
 * -ret says what the function returns, and so what its missing-export stub
 * returns when Wine's builtin lacks it (forward.c, portres_missing_export):
 *     int     SOCKET_ERROR           (ws2_32's default)
 *     socket  INVALID_SOCKET
 *     bool    FALSE
 *     ptr     NULL
 *     count   0 (a count, an id or a flag; 0 means none)
 *     void    nothing
 *     dword   the DLL's error code itself (iphlpapi's default: functions
 *             that return a Win32 or Winsock error code)
 * Every stub also sets the DLL's error (WSAEOPNOTSUPP, ERROR_NOT_SUPPORTED)
 * as the last error.
 *
 * Output, for one architecture:
 *   --def FILE  the module definition file for ld (export names, ordinals);
 *   --c FILE    a C file holding one thunk per forwarded export, jumping
 *               through portres_forward_table[], which DllMain fills from the
 *               builtin (see libs/portres/forward.c).  Until then, and for
 *               exports the builtin lacks, a slot points to a stub that calls
 *               portres_missing_export(index) and returns with the stack
 *               cleaned for its argument size (i386 stdcall).
 *   --implib FILE  a plain module definition file of the exports by name
 *               (i386: NAME@ARGBYTES), for dlltool to make an import
 *               library from, such as the delay-load one of the
 *               conformance kit (tests/kit).
 *
 * Native C, no dependency besides libc: it runs on the build machine.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 1024

struct entry
{
    int ordinal;          /* -1 until assigned */
    int noname;
    int argbytes;         /* i386 stack bytes */
    int ret;              /* PORTRES_RET_*, -1: the DLL's default */
    char name[128];
    char handler[128];    /* empty: forwarded */
};

static struct entry entries[MAX_ENTRIES];
static int entry_count;

static void fatal( const char *file, int line, const char *msg )
{
    fprintf( stderr, "%s:%d: %s\n", file, line, msg );
    exit( 1 );
}

static const char *const ret_names[] = { "int", "socket", "bool", "ptr", "count", "void", "dword" };
static const char *const ret_enums[] = { "PORTRES_RET_INT", "PORTRES_RET_SOCKET", "PORTRES_RET_BOOL",
                                         "PORTRES_RET_PTR", "PORTRES_RET_COUNT", "PORTRES_RET_VOID",
                                         "PORTRES_RET_DWORD" };

static int arg_size( const char *type, int win64 )
{
    if (!strcmp( type, "int64" ) || !strcmp( type, "double" )) return 8;
    if (!strcmp( type, "long" ) || !strcmp( type, "ptr" ) || !strcmp( type, "str" ) ||
        !strcmp( type, "wstr" ) || !strcmp( type, "float" ) || !strcmp( type, "segptr" ))
        return win64 ? 8 : 4;
    return -1;
}

/* parse one spec line; returns 1 if an entry for this architecture was added */
static int parse_line( char *line, const char *file, int lineno, int win64 )
{
    struct entry *e = &entries[entry_count];
    char *p = line, *tok, *args, *close;

    memset( e, 0, sizeof(*e) );
    e->ret = -1;
    if ((p = strchr( line, '#' ))) *p = 0;
    tok = strtok( line, " \t\r\n" );
    if (!tok) return 0;
    if (!strcmp( tok, "@" )) e->ordinal = -1;
    else
    {
        char *end;
        long v = strtol( tok, &end, 10 );
        if (*end || v < 1 || v > 65535) fatal( file, lineno, "bad ordinal" );
        e->ordinal = (int)v;
    }
    tok = strtok( NULL, " \t\r\n" );
    if (!tok || (strcmp( tok, "stdcall" ) && strcmp( tok, "cdecl" )))
        fatal( file, lineno, "only stdcall and cdecl entries are supported" );
    int cdecl_call = !strcmp( tok, "cdecl" );

    while ((tok = strtok( NULL, " \t\r\n" )) && tok[0] == '-')
    {
        if (!strcmp( tok, "-arch=win64" )) { if (!win64) return 0; }
        else if (!strcmp( tok, "-arch=win32" )) { if (win64) return 0; }
        else if (!strcmp( tok, "-noname" )) e->noname = 1;
        else if (!strncmp( tok, "-ret=", 5 ))
        {
            for (e->ret = 0; e->ret < (int)(sizeof(ret_names) / sizeof(ret_names[0])); e->ret++)
                if (!strcmp( tok + 5, ret_names[e->ret] )) break;
            if (e->ret == (int)(sizeof(ret_names) / sizeof(ret_names[0]))) fatal( file, lineno, "unknown -ret type" );
        }
        else if (!strcmp( tok, "-private" ) || !strcmp( tok, "-norelay" )) ;
        else fatal( file, lineno, "unknown flag" );
    }
    if (!tok) fatal( file, lineno, "missing export name" );

    /* NAME(ARGS) may contain spaces inside the parentheses: rejoin */
    args = strchr( tok, '(' );
    if (!args) fatal( file, lineno, "missing argument list" );
    *args++ = 0;
    if (strlen( tok ) >= sizeof(e->name)) fatal( file, lineno, "name too long" );
    strcpy( e->name, tok );
    {
        char buf[512] = "";
        char *rest;
        strncat( buf, args, sizeof(buf) - 1 );
        while (!(close = strchr( buf, ')' )))
        {
            if (!(rest = strtok( NULL, " \t\r\n" ))) fatal( file, lineno, "unterminated argument list" );
            if (strlen( buf ) + strlen( rest ) + 2 >= sizeof(buf)) fatal( file, lineno, "argument list too long" );
            strcat( buf, " " );
            strcat( buf, rest );
        }
        if (close[1]) fatal( file, lineno, "text after argument list" );
        *close = 0;
        for (char *a = strtok_r( buf, " \t", &rest ); a; a = strtok_r( NULL, " \t", &rest ))
        {
            int size = arg_size( a, win64 );
            if (size < 0) fatal( file, lineno, "unknown argument type" );
            if (!cdecl_call) e->argbytes += win64 ? 0 : size;
        }
    }
    if ((tok = strtok( NULL, " \t\r\n" )))
    {
        if (strlen( tok ) >= sizeof(e->handler)) fatal( file, lineno, "handler name too long" );
        strcpy( e->handler, tok );
        if (strtok( NULL, " \t\r\n" )) fatal( file, lineno, "trailing text" );
    }
    for (int i = 0; i < entry_count; i++)
    {
        if (!strcmp( entries[i].name, e->name )) fatal( file, lineno, "duplicate export name" );
        if (e->ordinal > 0 && entries[i].ordinal == e->ordinal) fatal( file, lineno, "duplicate ordinal" );
    }
    if (++entry_count == MAX_ENTRIES) fatal( file, lineno, "too many entries" );
    return 1;
}

static void assign_ordinals( void )
{
    int next = 1;
    for (int i = 0; i < entry_count; i++)
    {
        int used;
        if (entries[i].ordinal > 0) continue;
        do
        {
            used = 0;
            for (int j = 0; j < entry_count; j++)
                if (entries[j].ordinal == next) { used = 1; next++; break; }
        } while (used);
        entries[i].ordinal = next++;
    }
}

/* assembler symbol for a C-level name: i386 prefixes an underscore */
static const char *sym( const char *name, int win64 )
{
    static char buf[2][200];
    static int n;
    n ^= 1;
    snprintf( buf[n], sizeof(buf[n]), "%s%s", win64 ? "" : "_", name );
    return buf[n];
}

static void write_def( FILE *f, const char *dll, int win64 )
{
    int slot = 0;

    fprintf( f, "; generated by tools/specgen from %s.spec; do not edit\nLIBRARY %s.dll\nEXPORTS\n", dll, dll );
    for (int i = 0; i < entry_count; i++)
    {
        const struct entry *e = &entries[i];
        if (e->handler[0])
        {
            if (win64) fprintf( f, "  \"%s\"=%s @%d", e->name, e->handler, e->ordinal );
            else fprintf( f, "  \"%s\"=%s@%d @%d", e->name, e->handler, e->argbytes, e->ordinal );
        }
        else fprintf( f, "  \"%s\"=portres_thunk_%d @%d", e->name, slot++, e->ordinal );
        fprintf( f, "%s\n", e->noname ? " NONAME" : "" );
    }
}

static void write_implib( FILE *f, const char *dll, int win64 )
{
    fprintf( f, "; generated by tools/specgen from %s.spec; do not edit\nLIBRARY %s.dll\nEXPORTS\n", dll, dll );
    for (int i = 0; i < entry_count; i++)
    {
        if (entries[i].noname) continue;
        if (win64) fprintf( f, "  %s\n", entries[i].name );
        else fprintf( f, "  %s@%d\n", entries[i].name, entries[i].argbytes );
    }
}

static void write_c( FILE *f, const char *dll, int win64 )
{
    int forwarded = 0;

    fprintf( f, "/* generated by tools/specgen from %s.spec; do not edit */\n\n", dll );
    fprintf( f, "#include \"forward.h\"\n\n" );
    for (int i = 0; i < entry_count; i++) if (!entries[i].handler[0]) forwarded++;

    fprintf( f, "const unsigned int portres_forward_count = %d;\n\n", forwarded );
    fprintf( f, "const struct portres_forward portres_forward_exports[%d] =\n{\n", forwarded ? forwarded : 1 );
    for (int i = 0; i < entry_count; i++)
        if (!entries[i].handler[0])
            fprintf( f, "    { \"%s\", %d, %d, %s },\n", entries[i].name, entries[i].ordinal, entries[i].noname,
                     entries[i].ret < 0 ? "PORTRES_RET_DEFAULT" : ret_enums[entries[i].ret] );
    fprintf( f, "};\n\n" );

    /* missing-export stubs, one per slot so the index is known */
    for (int i = 0; i < forwarded; i++)
        fprintf( f, "extern char portres_missing_%d[];\n", i );
    fprintf( f, "\nvoid *portres_forward_table[%d] =\n{\n", forwarded ? forwarded : 1 );
    for (int i = 0; i < forwarded; i++) fprintf( f, "    portres_missing_%d,\n", i );
    fprintf( f, "};\n\n" );

    fprintf( f, "__asm__( \".text\\n\"\n" );
    for (int i = 0, slot = 0; i < entry_count; i++)
    {
        const struct entry *e = &entries[i];
        char thunk[160];
        if (e->handler[0]) continue;
        snprintf( thunk, sizeof(thunk), "portres_thunk_%d", slot );
        fprintf( f, "    \".globl %s\\n%s:\\n\"\n", sym( thunk, win64 ), sym( thunk, win64 ) );
        if (win64)
        {
            fprintf( f, "    \"\\tjmp *portres_forward_table+%d(%%rip)\\n\"\n", slot * 8 );
            fprintf( f, "    \".globl portres_missing_%d\\nportres_missing_%d:\\n\"\n", slot, slot );
            fprintf( f, "    \"\\tmovl $%d,%%ecx\\n\\tjmp portres_missing_export\\n\"\n", slot );
        }
        else
        {
            fprintf( f, "    \"\\tjmp *_portres_forward_table+%d\\n\"\n", slot * 4 );
            fprintf( f, "    \".globl _portres_missing_%d\\n_portres_missing_%d:\\n\"\n", slot, slot );
            fprintf( f, "    \"\\tpushl $%d\\n\\tcall _portres_missing_export\\n\\taddl $4,%%esp\\n\\tret $%d\\n\"\n",
                     slot, e->argbytes );
        }
        slot++;
    }
    fprintf( f, ");\n" );
}

int main( int argc, char **argv )
{
    const char *spec = NULL, *def = NULL, *c = NULL, *implib = NULL, *dll = NULL;
    int win64 = -1;
    char line[1024], *base;
    FILE *f;
    int lineno = 0;

    for (int i = 1; i < argc; i++)
    {
        if (!strcmp( argv[i], "--arch" ) && i + 1 < argc)
        {
            i++;
            if (!strcmp( argv[i], "x86_64" )) win64 = 1;
            else if (!strcmp( argv[i], "i386" )) win64 = 0;
        }
        else if (!strcmp( argv[i], "--def" ) && i + 1 < argc) def = argv[++i];
        else if (!strcmp( argv[i], "--c" ) && i + 1 < argc) c = argv[++i];
        else if (!strcmp( argv[i], "--implib" ) && i + 1 < argc) implib = argv[++i];
        else if (argv[i][0] != '-' && !spec) spec = argv[i];
        else win64 = -2;
    }
    if (!spec || win64 < 0 || (!def && !c && !implib))
    {
        fprintf( stderr, "usage: specgen --arch x86_64|i386 [--def OUT.def] [--c OUT.c] [--implib OUT.def] DLL.spec\n" );
        return 2;
    }

    /* the DLL name is the spec file's base name */
    base = strrchr( spec, '/' );
    dll = strdup( base ? base + 1 : spec );
    if (strlen( dll ) > 5 && !strcmp( dll + strlen( dll ) - 5, ".spec" )) ((char *)dll)[strlen( dll ) - 5] = 0;

    if (!(f = fopen( spec, "r" ))) { perror( spec ); return 1; }
    while (fgets( line, sizeof(line), f ))
    {
        lineno++;
        if (!strchr( line, '\n' ) && !feof( f )) fatal( spec, lineno, "line too long" );
        parse_line( line, spec, lineno, win64 );
    }
    fclose( f );
    assign_ordinals();

    if (def)
    {
        if (!(f = fopen( def, "w" ))) { perror( def ); return 1; }
        write_def( f, dll, win64 );
        if (fclose( f )) { perror( def ); return 1; }
    }
    if (c)
    {
        if (!(f = fopen( c, "w" ))) { perror( c ); return 1; }
        write_c( f, dll, win64 );
        if (fclose( f )) { perror( c ); return 1; }
    }
    if (implib)
    {
        if (!(f = fopen( implib, "w" ))) { perror( implib ); return 1; }
        write_implib( f, dll, win64 );
        if (fclose( f )) { perror( implib ); return 1; }
    }
    return 0;
}
