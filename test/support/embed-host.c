/* A program that embeds Janet the way an application without an event loop
 * does: it runs a script with janet_dostring and never calls janet_loop.
 * test/event-loop-host.janet compiles it with the Janet amalgamation of the
 * interpreter under test and runs
 *     host SCRIPT.janet
 * which prints what the script prints and exits with janet_dostring's status.
 * Not a test itself (scripts/test and jpm run only .janet files). */
#include <stdio.h>
#include <stdlib.h>
#include <janet.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: host SCRIPT.janet\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    static char source[1 << 16];
    size_t n = fread(source, 1, sizeof(source) - 1, f);
    fclose(f);
    source[n] = '\0';
    janet_init();
    JanetTable *env = janet_core_env(NULL);
    Janet out;
    int status = janet_dostring(env, source, argv[1], &out);
    janet_deinit();
    return status;
}
