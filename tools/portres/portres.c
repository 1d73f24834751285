/*
 * portres - netsh's port exclusion and dynamic port commands, for Wine
 *
 *   portres int ipv4 show excludedportrange [protocol=]tcp|udp [[store=]active|persistent]
 *   portres int ipv4 add excludedportrange [protocol=]tcp|udp [startport=]N [numberofports=]N
 *                                          [[store=]active|persistent]
 *   portres int ipv4 delete excludedportrange (same parameters as add)
 *   portres int ipv4 show dynamicport [protocol=]tcp|udp [[store=]active|persistent]
 *   portres int ipv4 set dynamicport [protocol=]tcp|udp [startport=]N [numberofports=]N
 *                                    [[store=]active|persistent]
 *
 * netsh's grammar: commands and tags may be abbreviated to an unambiguous
 * prefix ("int", "sh", "excl", "start=", "num="), keywords are
 * case-insensitive, a value without its tag fills the next tag in order;
 * "ipv6" and "ip" name the same port space as "ipv4".  Output and error
 * texts are netsh's, on stdout; the exit code is the Win32 error, or 1 for
 * a syntax error.
 *
 * Exclusions are added and deleted through the IP Helper functions
 * (Create/DeletePersistent{Tcp,Udp}PortReservation, provided by portres's
 * iphlpapi.dll) and listed from the shared pool, which also holds the
 * runtime reservations of running programs.  store=persistent (netsh's
 * default) makes an administered exclusion, kept in the prefix registry
 * and marked "*"; store=active one that lasts until Wine restarts (as
 * netsh's until the next boot), kept in a volatile registry key
 * (libs/portres/store.c), shown without "*".  show lists both, and the
 * live runtime reservations; show store=persistent only the administered
 * ones.  The dynamic port range has one store: store=active changes it
 * persistently too.
 */

#include <winsock2.h>
#include <iphlpapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"
#include "lock.h"
#include "host.h"
#include "admin.h"
#include "store.h"
#include "reserve.h"

/* from configure.ac's AC_INIT, passed by the Makefile */
#ifndef PORTRES_VERSION
#define PORTRES_VERSION "unknown"
#endif

enum tag { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE, TAG_COUNT };

static const char *const tag_names[TAG_COUNT] = { "protocol", "startport", "numberofports", "store" };

/* the parsed parameters of one command */
struct params
{
    const char *value[TAG_COUNT];  /* NULL: not given */
    enum portres_proto proto;
    USHORT start, count;
    BOOL persistent_only;          /* store=persistent */
    BOOL active;                   /* store=active */
};

/* one netsh command: its words, its tags and what runs it */
struct command
{
    const char *verb;              /* add, delete, set, show */
    unsigned int verb_min;         /* shortest unambiguous abbreviation in netsh */
    const char *object;            /* excludedportrange, dynamicport */
    unsigned int object_min;
    enum tag tags[TAG_COUNT + 1];  /* the tags it takes, in order, ending with TAG_COUNT */
    unsigned int required;         /* how many of them must be given */
    DWORD (*run)( const struct params *params );
    const char *usage;
};

/* Windows's texts for the errors where Wine's FormatMessage words them
 * differently; ERROR_ACCESS_DENIED gets netsh's elevation text */
static const struct { DWORD code; const char *text; } error_texts[] =
{
    { ERROR_ACCESS_DENIED, "The requested operation requires elevation (Run as administrator)." },
    { ERROR_NOT_ENOUGH_MEMORY, "Not enough memory resources are available to process this command." },
    { ERROR_SHARING_VIOLATION, "The process cannot access the file because it is being used by another process." },
    { ERROR_INVALID_PARAMETER, "The parameter is incorrect." },
};

/* print the text of Win32 error err the way netsh does, and return err */
static DWORD print_error( DWORD err )
{
    char text[512];
    DWORD len;

    for (unsigned int i = 0; i < ARRAYSIZE(error_texts); i++)
        if (error_texts[i].code == err)
        {
            printf( "%s\n\n", error_texts[i].text );
            return err;
        }
    len = FormatMessageA( FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0,
                          text, sizeof(text), NULL );
    while (len && (text[len - 1] == '\r' || text[len - 1] == '\n' || text[len - 1] == ' ')) len--;
    if (len) printf( "%.*s\n\n", (int)len, text );
    else printf( "Error %lu\n\n", err );
    return err;
}

/* print "Ok." for success, the error's text otherwise; returns err */
static DWORD print_result( DWORD err )
{
    if (err) return print_error( err );
    printf( "Ok.\n\n" );
    return NO_ERROR;
}

/* TRUE if arg is a case-insensitive abbreviation of keyword at least min characters long */
static BOOL match( const char *arg, size_t len, const char *keyword, size_t min )
{
    return len >= min && len <= strlen( keyword ) && !_strnicmp( arg, keyword, len );
}

/* TRUE if arg is keyword abbreviated to at least min characters */
static BOOL match_word( const char *arg, const char *keyword, size_t min )
{
    return match( arg, strlen( arg ), keyword, min );
}

/* parse a port or a count, decimal 0..65535; FALSE if malformed */
static BOOL parse_number( const char *text, USHORT *value )
{
    char *end;
    unsigned long v;

    if (*text < '0' || *text > '9') return FALSE;
    v = strtoul( text, &end, 10 );
    if (*end || v > 65535) return FALSE;
    *value = (USHORT)v;
    return TRUE;
}

/* check and decode the values given; ERROR_INVALID_PARAMETER if one is malformed */
static DWORD decode_params( struct params *params )
{
    const char *v;

    if ((v = params->value[TAG_PROTOCOL]))
    {
        if (!_stricmp( v, "tcp" )) params->proto = PORTRES_TCP;
        else if (!_stricmp( v, "udp" )) params->proto = PORTRES_UDP;
        else return ERROR_INVALID_PARAMETER;
    }
    if ((v = params->value[TAG_STARTPORT]) && !parse_number( v, &params->start )) return ERROR_INVALID_PARAMETER;
    if ((v = params->value[TAG_NUMBEROFPORTS]) && !parse_number( v, &params->count ))
        return ERROR_INVALID_PARAMETER;
    if ((v = params->value[TAG_STORE]))
    {
        if (!_stricmp( v, "persistent" )) params->persistent_only = TRUE;
        else if (!_stricmp( v, "active" )) params->active = TRUE;
        else return ERROR_INVALID_PARAMETER;
    }
    return NO_ERROR;
}

/* one row of the exclusion table */
struct range
{
    USHORT start, end;
    BOOL persistent;
};

/* qsort order of the exclusion table: by start port */
static int compare_ranges( const void *a, const void *b )
{
    return (int)((const struct range *)a)->start - (int)((const struct range *)b)->start;
}

/* the blocks of other prefixes (the host view), for show */
struct other_ranges
{
    enum portres_proto proto;
    BOOL persistent_only;
    unsigned int n;
    struct portres_host_hit hits[256];
};

static void add_other( void *ctx, const struct portres_host_hit *hit )
{
    struct other_ranges *others = ctx;
    BOOL administered = hit->block.kind == PORTRES_KIND_PERSISTENT || hit->block.kind == PORTRES_KIND_PENDING;

    if (hit->block.proto != others->proto || (others->persistent_only && !administered) ||
        others->n == ARRAYSIZE(others->hits))
        return;
    others->hits[others->n++] = *hit;
}

/* show excludedportrange: the reservations of the protocol in the shared
 * pool (seeing the registry's hand edits), administered persistent ones
 * marked "*", active ones and live runtime ones without; runtime ones
 * whose owner has died (not reclaimed yet) are left out; store=persistent
 * lists the administered ones only */
static DWORD show_excluded( const struct params *params )
{
    static struct range ranges[PORTRES_MAX_RESERVATIONS];
    static struct other_ranges others;
    const struct portres_reservation *res;
    struct portres_pool *pool;
    unsigned int n = 0;

    if (!(pool = portres_lock_fresh())) return print_error( ERROR_NOT_ENOUGH_MEMORY );
    PORTRES_POOL_FOR_EACH( res, pool )
    {
        /* the registry's list, and what is being written to it */
        BOOL administered = res->kind == PORTRES_KIND_PERSISTENT || res->kind == PORTRES_KIND_PENDING;

        if (res->proto != params->proto) continue;
        if (params->persistent_only && !administered) continue;
        if (res->kind == PORTRES_KIND_RUNTIME && !portres_owner_alive( res->owner )) continue;
        ranges[n].start = res->start;
        ranges[n].end = res->start + res->count - 1;
        ranges[n].persistent = administered;
        n++;
    }
    portres_unlock();
    qsort( ranges, n, sizeof(*ranges), compare_ranges );

    printf( "\nProtocol %s Port Exclusion Ranges\n\n", params->proto == PORTRES_TCP ? "tcp" : "udp" );
    printf( "Start Port    End Port\n" );
    printf( "----------    --------\n" );
    for (unsigned int i = 0; i < n; i++)
        printf( "%10u    %8u%s\n", ranges[i].start, ranges[i].end, ranges[i].persistent ? "     *" : "" );
    printf( "\n* - Administered port exclusions.\n\n" );

    /* the other prefixes' blocks, which hold here too (behaviour §6) */
    others.proto = params->proto;
    others.persistent_only = params->persistent_only;
    portres_host_list( add_other, &others );
    if (!others.n) return NO_ERROR;
    printf( "Port exclusions of other prefixes\n\n" );
    printf( "Start Port    End Port       Prefix\n" );
    printf( "----------    --------       ------\n" );
    for (unsigned int i = 0; i < others.n; i++)
    {
        const struct portres_host_block *block = &others.hits[i].block;
        BOOL administered = block->kind == PORTRES_KIND_PERSISTENT || block->kind == PORTRES_KIND_PENDING;

        printf( "%10u    %8u%s    %s\n", block->start, block->start + block->count - 1, administered ? "  *" : "   ",
                others.hits[i].label );
    }
    printf( "\n" );
    return NO_ERROR;
}

/* add excludedportrange: an administered exclusion (binds may take its
 * ports, acquires may not: behaviour §4), persistent (in the registry, as
 * CreatePersistent*PortReservation's, with an administered token) or
 * active (store=active: in the volatile registry key, until Wine restarts) */
static DWORD add_excluded( const struct params *params )
{
    struct portres_reservation res;

    return print_result( portres_reserve( params->active ? PORTRES_KIND_ACTIVE : PORTRES_KIND_PERSISTENT, params->proto,
                                          params->start, params->count, 0, TRUE, NULL, &res ) );
}

/* delete excludedportrange: the persistent reservation of exactly this
 * block, or the active one (store=active) */
static DWORD delete_excluded( const struct params *params )
{
    USHORT start = portres_htons( params->start );

    if (params->active)
        return print_result( portres_unreserve( PORTRES_KIND_ACTIVE, params->proto, params->start, params->count ) );
    if (params->proto == PORTRES_TCP)
        return print_result( DeletePersistentTcpPortReservation( start, params->count ) );
    return print_result( DeletePersistentUdpPortReservation( start, params->count ) );
}

/* show dynamicport: the protocol's dynamic port range from the shared pool */
static DWORD show_dynamic( const struct params *params )
{
    struct portres_pool *pool;
    unsigned int first, count;

    if (!(pool = portres_lock_fresh())) return print_error( ERROR_NOT_ENOUGH_MEMORY );
    first = pool->dyn_first[params->proto];
    count = pool->dyn_count[params->proto];
    portres_unlock();

    printf( "\nProtocol %s Dynamic Port Range\n", params->proto == PORTRES_TCP ? "tcp" : "udp" );
    printf( "---------------------------------\n" );
    printf( "Start Port      : %u\n", first );
    printf( "Number of Ports : %u\n\n", count );
    return NO_ERROR;
}

/* set dynamicport: change the protocol's dynamic port range (administrators
 * only, as on Windows): durably in the registry and the journal under the
 * store mutex, then in the pool.  ERROR_INVALID_PARAMETER outside netsh's
 * limits (portres_dynamic_range_valid). */
static DWORD set_dynamic( const struct params *params )
{
    struct portres_pool *pool;
    USHORT old_start, old_count;
    LONG err;

    if (!portres_is_admin()) return print_error( ERROR_ACCESS_DENIED );
    if (!portres_dynamic_range_valid( params->start, params->count )) return print_result( ERROR_INVALID_PARAMETER );
    if (!portres_store_begin()) return print_result( ERROR_NOT_ENOUGH_MEMORY );
    if (!(pool = portres_lock_fresh()))
    {
        portres_store_end();
        return print_result( ERROR_NOT_ENOUGH_MEMORY );
    }
    old_start = pool->dyn_first[params->proto];
    old_count = pool->dyn_count[params->proto];
    portres_unlock();
    /* the registry and the journal outside the pool lock */
    if (!(err = portres_store_dynamic( params->proto, params->start, params->count, old_start, old_count )) &&
        (pool = portres_lock()))
    {
        pool->dyn_first[params->proto] = params->start;
        pool->dyn_count[params->proto] = params->count;
        portres_unlock();
    }
    portres_store_end();
    return print_result( err );
}

#define STORE_USAGE "[[store=]active|persistent]"
#define RANGE_USAGE "[protocol=]tcp|udp [startport=]<1-65535> [numberofports=]<1-65535> " STORE_USAGE

static const struct command commands[] =
{
    { "show", 2, "excludedportrange", 1, { TAG_PROTOCOL, TAG_STORE, TAG_COUNT }, 1, show_excluded,
      "show excludedportrange [protocol=]tcp|udp " STORE_USAGE },
    { "add", 1, "excludedportrange", 1, { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE, TAG_COUNT }, 3,
      add_excluded, "add excludedportrange " RANGE_USAGE },
    { "delete", 2, "excludedportrange", 1, { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE, TAG_COUNT },
      3, delete_excluded, "delete excludedportrange " RANGE_USAGE },
    { "show", 2, "dynamicport", 2, { TAG_PROTOCOL, TAG_STORE, TAG_COUNT }, 1, show_dynamic,
      "show dynamicport [protocol=]tcp|udp " STORE_USAGE },
    { "set", 2, "dynamicport", 2, { TAG_PROTOCOL, TAG_STARTPORT, TAG_NUMBEROFPORTS, TAG_STORE, TAG_COUNT }, 3,
      set_dynamic, "set dynamicport " RANGE_USAGE },
};

/* print the syntax of every command */
static void usage( void )
{
    printf( "portres.exe %s\n", PORTRES_VERSION );
    printf( "Usage: portres interface ipv4|ipv6 <command>, with <command> one of:\n" );
    for (unsigned int i = 0; i < ARRAYSIZE(commands); i++) printf( "  %s\n", commands[i].usage );
    printf( "\n" );
}

/* netsh's answer to a malformed command line: message, the command's syntax, exit code 1 */
static DWORD syntax_error( const struct command *cmd, const char *message )
{
    printf( "%s\n\nUsage: %s\n\n", message, cmd->usage );
    return ERROR_INVALID_FUNCTION;  /* 1 */
}

/* match the arguments of cmd to its tags (tag=value, or a bare value for
 * the next tag in order), decode them and run it */
static DWORD run_command( const struct command *cmd, int argc, char **argv )
{
    struct params params;
    unsigned int ntags, next = 0;
    DWORD err;

    memset( &params, 0, sizeof(params) );
    for (ntags = 0; cmd->tags[ntags] != TAG_COUNT; ntags++) ;
    for (int i = 0; i < argc; i++)
    {
        const char *eq = strchr( argv[i], '=' );
        unsigned int t;

        if (eq)
        {
            for (t = 0; t < ntags; t++)
                if (match( argv[i], eq - argv[i], tag_names[cmd->tags[t]], 1 )) break;
        }
        else
        {
            while (next < ntags && params.value[cmd->tags[next]]) next++;
            t = next;
        }
        if (t == ntags || params.value[cmd->tags[t]])
            return syntax_error( cmd, "The syntax supplied for this command is not valid. "
                                      "Check help for the correct syntax." );
        params.value[cmd->tags[t]] = eq ? eq + 1 : argv[i];
    }
    for (unsigned int t = 0; t < cmd->required; t++)
        if (!params.value[cmd->tags[t]])
            return syntax_error( cmd, "One or more essential parameters were not entered.\n"
                                      "Verify the required parameters, and reenter them." );
    if ((err = decode_params( &params ))) return print_error( err );
    return cmd->run( &params );
}

/* TRUE if arg asks for help, as netsh's "/?", "-?", "?" and "help" do */
static BOOL is_help( const char *arg )
{
    return !strcmp( arg, "/?" ) || !strcmp( arg, "-?" ) || !strcmp( arg, "?" ) || !_stricmp( arg, "help" );
}

/* netsh's answer to a command it does not know: the arguments, echoed */
static DWORD not_found( int argc, char **argv )
{
    printf( "The following command was not found:" );
    for (int i = 1; i < argc; i++) printf( " %s", argv[i] );
    printf( ".\n\n" );
    return ERROR_INVALID_FUNCTION;  /* 1 */
}

/* portres interface ipv4|ipv6|ip <verb> <object> [parameters] */
int main( int argc, char **argv )
{
    if (argc == 2 && !strcmp( argv[1], "--version" ))
    {
        printf( "portres.exe %s\n", PORTRES_VERSION );
        return 0;
    }
    for (int i = 1; i < argc; i++)
        if (is_help( argv[i] ))
        {
            usage();
            return 0;
        }
    if (argc < 2)
    {
        usage();
        return ERROR_INVALID_FUNCTION;
    }
    if (argc < 5 || !match_word( argv[1], "interface", 2 ) ||
        !(match_word( argv[2], "ipv4", 4 ) || match_word( argv[2], "ipv6", 4 ) || !_stricmp( argv[2], "ip" )))
        return not_found( argc, argv );

    for (unsigned int i = 0; i < ARRAYSIZE(commands); i++)
        if (match_word( argv[3], commands[i].verb, commands[i].verb_min ) &&
            match_word( argv[4], commands[i].object, commands[i].object_min ))
            return run_command( &commands[i], argc - 5, argv + 5 );
    return not_found( argc, argv );
}
