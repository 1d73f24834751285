/*
 * The names every process of a prefix shares (doc/behaviour.md, "Where the
 * pool lives"): the wineserver objects of the pool, the registry keys and
 * values of the persistent store, and the journal file.  The DLLs,
 * portres.exe and the tests all take them from here, so a renamed object
 * cannot leave a test checking a name nobody uses.  No Win32 needed:
 * narrow strings, and PORTRES_W() for the wide form.
 *
 * The "-1" in the object names is the layout version of struct
 * portres_pool (pool.h): a changed layout gets new names, so processes of
 * two versions never share one section.
 */

#ifndef PORTRES_NAMES_H
#define PORTRES_NAMES_H

#define PORTRES_W_( s ) L##s
#define PORTRES_W( s )  PORTRES_W_( s )

/* wineserver objects: the pool section and its mutex (shared.c), one
 * event per owner process (its lifetime is the owner's), one per watched
 * socket (ws2_32 sockwatch.c: owner's process id, watch id), and the
 * store's section and mutex (store.c) */
#define PORTRES_POOL_SECTION_NAME  "Global\\portres-pool-1"
#define PORTRES_POOL_MUTEX_NAME    "Global\\portres-mutex-1"
#define PORTRES_OWNER_EVENT_FMT    "Global\\portres-owner-1-%lu"
#define PORTRES_SOCKET_EVENT_FMT   "Global\\portres-sock-1-%lu-%llu"
#define PORTRES_STORE_SECTION_NAME "Global\\portres-store-1"
#define PORTRES_STORE_MUTEX_NAME   "Global\\portres-store-mutex-1"
/* the prefix's part of the host view (host.c), one per file of the view:
 * %08x is the CRC-32 of the file's Unix path */
#define PORTRES_HOST_SECTION_FMT   "Global\\portres-host-1-%08x"
#define PORTRES_HOST_MUTEX_FMT     "Global\\portres-host-mutex-1-%08x"

/* the persistent store under HKEY_LOCAL_MACHINE (64-bit view): one value
 * per reservation in \Tcp and \Udp ("START-END" = "0xTOKEN", regvalue.c),
 * netsh's store=active exclusions in the volatile \Active\Tcp and \Udp,
 * the dynamic port ranges and the journal generation in the key itself */
#define PORTRES_REGISTRY_KEY        "Software\\Wine\\Portres"
#define PORTRES_REGISTRY_TCP_KEY    PORTRES_REGISTRY_KEY "\\Tcp"
#define PORTRES_REGISTRY_UDP_KEY    PORTRES_REGISTRY_KEY "\\Udp"
#define PORTRES_REGISTRY_ACTIVE_KEY PORTRES_REGISTRY_KEY "\\Active"
#define PORTRES_REGISTRY_TCP_NAME   "Tcp"
#define PORTRES_REGISTRY_UDP_NAME   "Udp"
#define PORTRES_TCP_DYNAMIC_VALUE   "TcpDynamicPortRange"
#define PORTRES_UDP_DYNAMIC_VALUE   "UdpDynamicPortRange"
#define PORTRES_GENERATION_VALUE    "Generation"
#define PORTRES_REGISTRY_HELPER_VALUE "Helper"  /* the Unix path of portres-helper (helper.c) */
#define PORTRES_REGISTRY_HOSTWIDE_VALUE "HostWide"  /* "off": this prefix stays out of the host view (host.c) */

/* the host view: a file of the user's runtime folder (hostview.h, host.c) */
#define PORTRES_HOST_FILE "host-1"

/* the journal: <Windows directory>\portres\journal.txt (journal.h) */
#define PORTRES_JOURNAL_DIR  "portres"
#define PORTRES_JOURNAL_FILE "journal.txt"
#define PORTRES_JOURNAL_TMP  "journal.tmp"

#endif /* PORTRES_NAMES_H */
