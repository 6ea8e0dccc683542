/*
 * tls_certs - keys and certificate chains, trust anchors, DH parameters
 * and ECDHE curves for a context. See tls_private.h and tls_server.h.
 *
 * PEM input is walked object by object: keys (unencrypted; PKCS#8 or the
 * traditional RSA/EC/DSA forms) and certificates; EC and DH parameter
 * blocks are skipped; anything else is an error. A chain list is read as
 * Postfix documents smtpd_tls_chain_files: key1, cert1, [chain1], key2, ...,
 * every key directly before its certificate, which must match it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "argv.h"
#include "mail_params.h"
#include "msg.h"
#include "tls_private.h"

#define PEM_FILE_MAX   (1024 * 1024)

/* A key with its certificate and issuers, as it is being collected. */
typedef struct key_chain {
    EVP_PKEY *key;
    X509   *cert;
    STACK_OF(X509) *issuers;
} key_chain;

typedef struct chain_loader {
    SSL_CTX *ctx;                       /* one of these two */
    SSL    *ssl;
    const char *origin;                 /* for messages */
    key_chain current;
    int     loaded;
} chain_loader;

static void key_chain_clear(key_chain *chain)
{
    EVP_PKEY_free(chain->key);
    X509_free(chain->cert);
    sk_X509_pop_free(chain->issuers, X509_free);
    memset(chain, 0, sizeof(*chain));
}

/* Read a whole file into `out` (appending), at most PEM_FILE_MAX bytes. */
static int read_file(const char *path, strbuf *out, strbuf *why)
{
    char    buf[8192];
    ssize_t n;
    size_t  start = out->len;
    int     fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        strbuf_printf(why, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0 && out->len - start <= PEM_FILE_MAX)
        strbuf_append(out, buf, (size_t) n);
    close(fd);
    if (n < 0 || out->len - start > PEM_FILE_MAX) {
        strbuf_printf(why, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "file too large");
        return -1;
    }
    strbuf_append_char(out, '\n');      /* files are concatenated safely */
    return 0;
}

enum pem_kind { PEM_KEY, PEM_CERT };

typedef int (*pem_visitor)(enum pem_kind kind, void *object, void *context, strbuf *why);

static void *decode_pem_object(const char *name, const unsigned char *data, long len,
                               enum pem_kind *kind)
{
    const unsigned char *cp = data;

    if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0) {
        *kind = PEM_CERT;
        return d2i_X509(NULL, &cp, len);
    }
    if (strcmp(name, "TRUSTED CERTIFICATE") == 0) {
        *kind = PEM_CERT;
        return d2i_X509_AUX(NULL, &cp, len);
    }
    if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "RSA PRIVATE KEY") == 0
        || strcmp(name, "EC PRIVATE KEY") == 0 || strcmp(name, "DSA PRIVATE KEY") == 0) {
        *kind = PEM_KEY;
        return d2i_AutoPrivateKey(NULL, &cp, len);
    }
    return NULL;
}

static int skipped_pem_object(const char *name)
{
    return strcmp(name, "EC PARAMETERS") == 0 || strcmp(name, "DH PARAMETERS") == 0;
}

/* One PEM object: decode it and hand it to the visitor, which owns it. */
static int visit_pem_object(const char *name, const char *header, const unsigned char *data,
                            long len, const char *origin, pem_visitor visit, void *context,
                            strbuf *why)
{
    enum pem_kind kind = PEM_CERT;
    void   *object;

    if (skipped_pem_object(name))
        return 0;
    if (header != NULL && *header != 0) {
        strbuf_printf(why, "%s: encrypted or unsupported PEM object \"%s\"", origin, name);
        return -1;
    }
    if ((object = decode_pem_object(name, data, len, &kind)) == NULL) {
        strbuf_printf(why, "%s: cannot decode PEM object \"%s\"", origin, name);
        return -1;
    }
    return visit(kind, object, context, why);
}

static int pem_each(const char *pem, size_t len, const char *origin, pem_visitor visit,
                    void *context, strbuf *why)
{
    BIO    *bio;
    int     result = 0;

    if (len > PEM_FILE_MAX * 8) {
        strbuf_printf(why, "%s: PEM data too large", origin);
        return -1;
    }
    if ((bio = BIO_new_mem_buf(pem, (int) len)) == NULL)
        msg_fatal("cannot allocate an OpenSSL memory BIO");
    while (result == 0) {
        char   *name = NULL;
        char   *header = NULL;
        unsigned char *data = NULL;
        long    data_len = 0;

        if (!PEM_read_bio(bio, &name, &header, &data, &data_len)) {
            ERR_clear_error();          /* end of input */
            break;
        }
        result = visit_pem_object(name, header, data, data_len, origin, visit, context, why);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    BIO_free(bio);
    return result;
}

static int install_key_chain(chain_loader *loader, strbuf *why)
{
    key_chain *chain = &loader->current;
    int     ok;

    if (!X509_check_private_key(chain->cert, chain->key)) {
        ERR_clear_error();
        strbuf_printf(why, "%s: private key does not match its certificate", loader->origin);
        return -1;
    }
    ok = loader->ssl ? SSL_use_cert_and_key(loader->ssl, chain->cert, chain->key,
                                            chain->issuers, 1)
        : SSL_CTX_use_cert_and_key(loader->ctx, chain->cert, chain->key, chain->issuers, 1);
    if (!ok) {
        tls_log_errors();
        strbuf_printf(why, "%s: cannot use key and certificate chain", loader->origin);
        return -1;
    }
    loader->loaded++;
    key_chain_clear(chain);
    return 0;
}

static int chain_visit(enum pem_kind kind, void *object, void *context, strbuf *why)
{
    chain_loader *loader = context;
    key_chain *chain = &loader->current;

    if (kind == PEM_KEY) {
        if (chain->key && chain->cert == NULL) {
            EVP_PKEY_free(object);
            strbuf_printf(why, "%s: private key not followed by a certificate", loader->origin);
            return -1;
        }
        if (chain->key && install_key_chain(loader, why) < 0) {
            EVP_PKEY_free(object);
            return -1;
        }
        chain->key = object;
        return 0;
    }
    if (chain->key == NULL) {
        X509_free(object);
        strbuf_printf(why, "%s: certificate not preceded by its private key", loader->origin);
        return -1;
    }
    if (chain->cert == NULL)
        chain->cert = object;
    else if ((chain->issuers || (chain->issuers = sk_X509_new_null()))
             && sk_X509_push(chain->issuers, object))
        return 0;
    else
        msg_fatal("out of memory");
    return 0;
}

/* Load key/chain groups into a context or a connection: how many, or -1. */
static int load_chain_pem(SSL_CTX *ctx, SSL *ssl, const char *pem, size_t len,
                          const char *origin, strbuf *why)
{
    chain_loader loader = {.ctx = ctx,.ssl = ssl,.origin = origin };
    int     result = pem_each(pem, len, origin, chain_visit, &loader, why);

    if (result == 0 && loader.current.key && loader.current.cert == NULL) {
        strbuf_printf(why, "%s: private key not followed by a certificate", origin);
        result = -1;
    }
    if (result == 0 && loader.current.key)
        result = install_key_chain(&loader, why);
    if (result == 0 && loader.loaded == 0) {
        strbuf_printf(why, "%s: no private key and certificate found", origin);
        result = -1;
    }
    key_chain_clear(&loader.current);
    return result < 0 ? -1 : loader.loaded;
}

int tls_use_chain_pem(SSL *ssl, const char *pem, size_t len, const char *origin, strbuf *why)
{
    return load_chain_pem(NULL, ssl, pem, len, origin, why) < 0 ? -1 : 0;
}

static int load_chain_files(SSL_CTX *ctx, const char *files, strbuf *why)
{
    argv_t *paths = argv_split(files, ARGV_LIST_DELIMITERS);
    strbuf *pem = strbuf_new(8192);
    int     result = 0;

    for (size_t i = 0; i < paths->count && result == 0; i++)
        result = read_file(paths->items[i], pem, why);
    if (result == 0 && paths->count > 0)
        result = load_chain_pem(ctx, NULL, pem->data, pem->len, files, why);
    OPENSSL_cleanse(pem->data, pem->len);
    strbuf_free(pem);
    argv_free(paths);
    return result;
}

/* Legacy pairs: certificates (leaf first) from one file, the key from another. */
static int pair_visit(enum pem_kind kind, void *object, void *context, strbuf *why)
{
    key_chain *chain = context;

    (void) why;
    if (kind == PEM_KEY) {
        if (chain->key == NULL)
            chain->key = object;
        else
            EVP_PKEY_free(object);
    } else if (chain->cert == NULL) {
        chain->cert = object;
    } else if ((chain->issuers || (chain->issuers = sk_X509_new_null()))
               && sk_X509_push(chain->issuers, object)) {
        return 0;
    } else {
        msg_fatal("out of memory");
    }
    return 0;
}

static int load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, strbuf *why)
{
    chain_loader loader = {.ctx = ctx,.origin = cert_file };
    key_chain keys = {0};
    strbuf *pem = strbuf_new(8192);
    int     result = read_file(cert_file, pem, why);

    if (result == 0)
        result = pem_each(pem->data, pem->len, cert_file, pair_visit, &loader.current, why);
    strbuf_reset(pem);
    if (result == 0 && (result = read_file(key_file, pem, why)) == 0)
        result = pem_each(pem->data, pem->len, key_file, pair_visit, &keys, why);
    OPENSSL_cleanse(pem->data, pem->len);
    strbuf_free(pem);
    if (result == 0 && (loader.current.cert == NULL || keys.key == NULL)) {
        strbuf_printf(why, "no %s found in %s", loader.current.cert ? "private key" : "certificate",
                      loader.current.cert ? key_file : cert_file);
        result = -1;
    }
    if (result == 0) {
        EVP_PKEY_free(loader.current.key);
        loader.current.key = keys.key;
        keys.key = NULL;
        result = install_key_chain(&loader, why);
    }
    key_chain_clear(&keys);
    key_chain_clear(&loader.current);
    return result;
}

static int nonempty(const char *text)
{
    return text != NULL && *text != 0;
}

int tls_load_keys(SSL_CTX *ctx, const tls_key_files *files, strbuf *why)
{
    const char *pairs[][2] = {
        {files->cert_file, files->key_file},
        {files->eccert_file, files->eckey_file},
        {files->dcert_file, files->dkey_file},
    };
    int     loaded = 0;

    if (nonempty(files->chain_files)) {
        for (size_t i = 0; i < 3; i++)
            if (nonempty(pairs[i][0]))
                msg_warn("chain files are set: ignoring the certificate file %s", pairs[i][0]);
        return load_chain_files(ctx, files->chain_files, why);
    }
    for (size_t i = 0; i < 3; i++) {
        if (!nonempty(pairs[i][0]))
            continue;
        if (load_pair(ctx, pairs[i][0], nonempty(pairs[i][1]) ? pairs[i][1] : pairs[i][0],
                      why) < 0)
            return -1;
        loaded++;
    }
    return loaded;
}

int tls_load_trust(SSL_CTX *ctx, const char *CAfile, const char *CApath,
                   int append_default, strbuf *why)
{
    if ((nonempty(CAfile) || nonempty(CApath))
        && !SSL_CTX_load_verify_locations(ctx, nonempty(CAfile) ? CAfile : NULL,
                                          nonempty(CApath) ? CApath : NULL)) {
        tls_log_errors();
        strbuf_printf(why, "cannot load Certificate Authority data from %s%s%s",
                      nonempty(CAfile) ? CAfile : "", nonempty(CAfile) && nonempty(CApath) ?
                      " and " : "", nonempty(CApath) ? CApath : "");
        return -1;
    }
    if (append_default && !SSL_CTX_set_default_verify_paths(ctx)) {
        tls_log_errors();
        strbuf_set(why, "cannot load the default Certificate Authority data");
        return -1;
    }
    return 0;
}

int tls_load_dh(SSL_CTX *ctx, const char *path, strbuf *why)
{
    BIO    *bio;
    EVP_PKEY *params;

    if (!nonempty(path)) {
        SSL_CTX_set_dh_auto(ctx, 1);
        return 0;
    }
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        ERR_clear_error();
        strbuf_printf(why, "cannot open DH parameter file %s: %s", path, strerror(errno));
        return -1;
    }
    params = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);
    if (params == NULL || !EVP_PKEY_is_a(params, "DH")
        || !SSL_CTX_set0_tmp_dh_pkey(ctx, params)) {
        EVP_PKEY_free(params);
        ERR_clear_error();
        strbuf_printf(why, "cannot load DH parameters from %s", path);
        return -1;
    }
    return 0;
}

/* The curves of the grade that this OpenSSL knows, colon-separated. */
static void supported_curves(const char *names, strbuf *out)
{
    argv_t *curves = argv_split(names ? names : "", ARGV_LIST_DELIMITERS);
    SSL_CTX *probe = SSL_CTX_new(TLS_method());

    if (probe == NULL)
        msg_fatal("cannot allocate an OpenSSL context");
    strbuf_reset(out);
    for (size_t i = 0; i < curves->count; i++) {
        if (!SSL_CTX_set1_groups_list(probe, curves->items[i])) {
            ERR_clear_error();
            continue;
        }
        if (out->len)
            strbuf_append_char(out, ':');
        strbuf_append_str(out, curves->items[i]);
    }
    SSL_CTX_free(probe);
    argv_free(curves);
}

int tls_set_curves(SSL_CTX *ctx, const char *grade, strbuf *why)
{
    const char *names;
    strbuf *list;
    int     ok;

    if (!nonempty(grade) || strcmp(grade, "none") == 0)
        return 0;
    if (strcmp(grade, "auto") == 0)
        names = var_tls_eecdh_auto_curves;
    else if (strcmp(grade, "strong") == 0)
        names = var_tls_eecdh_strong_curve;
    else if (strcmp(grade, "ultra") == 0)
        names = var_tls_eecdh_ultra_curve;
    else {
        strbuf_printf(why, "invalid ECDHE grade \"%s\"", grade);
        return -1;
    }
    list = strbuf_new(64);
    supported_curves(names, list);
    ok = list->len > 0 && SSL_CTX_set1_groups_list(ctx, list->data);
    if (!ok) {
        ERR_clear_error();
        strbuf_printf(why, "no supported ECDHE curve in \"%s\"", names ? names : "");
    }
    strbuf_free(list);
    return ok ? 0 : -1;
}
