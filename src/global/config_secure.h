/*
 * config_secure - configuration and environment for set-gid commands.
 *
 * postqueue (and postdrop) run with the postdrop group for any local user,
 * so what the caller controls is hostile: the configuration directory
 * (-c, MAIL_CONFIG) could point at a main.cf that names another queue or
 * log file, and the environment could steer the C library.
 *
 * config_secure_init(requested) reads main.cf like config_init(), but a
 * user other than root may choose a directory other than the compiled-in
 * default only when the default main.cf lists it in
 * alternate_config_directories; anything else is fatal with Postfix's
 * "unauthorized configuration directory name: DIR". `requested` is the -c
 * argument or NULL (then MAIL_CONFIG is looked at, under the same rule).
 *
 * config_secure_environment() replaces the environment by what
 * import_environment allows, plus MAIL_CONFIG (call after params_load()).
 * config_secure_descriptors() makes sure descriptors 0, 1 and 2 are open,
 * so nothing the program opens later becomes its standard output.
 */
#ifndef POSTERN_CONFIG_SECURE_H
#define POSTERN_CONFIG_SECURE_H

void    config_secure_init(const char *requested);
void    config_secure_environment(void);
void    config_secure_descriptors(void);

#endif
