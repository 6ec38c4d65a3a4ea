/*
 * janet/main.c: the Janet interpreter we build for development, CI and users
 * without an installed Janet. It is Janet's own amalgamation (janet.c and
 * janet.h, shipped by the evil-janet crate: 1.41.2 for build/janet, other
 * releases such as 1.36.0 and 1.37.1 through scripts/janet-version) plus this
 * minimal main, which hands argv to the core `cli-main`, as Janet's shell
 * does. It uses only API that every Janet since 1.36 has.
 *
 * Built by scripts/build-janet:
 *   cc -O2 -std=c99 -o build/janet janet/main.c <csrc>/janet.c -I<csrc> \
 *      -lm -ldl -lpthread -rdynamic
 * -rdynamic exports janet_* so native modules (build/jsec/ca.so) resolve
 * them from this executable.
 */
#include <janet.h>

int main(int argc, char **argv) {
    int i, status;
    JanetArray *args;
    JanetTable *env;
    Janet mainfun, mainargs;
    JanetFiber *fiber;

    janet_init();
    env = janet_core_env(NULL);

    args = janet_array(argc);
    for (i = 1; i < argc; i++)
        janet_array_push(args, janet_cstringv(argv[i]));
    janet_table_put(env, janet_ckeywordv("executable"), janet_cstringv(argv[0]));

    mainargs = janet_wrap_array(args);
    janet_resolve(env, janet_csymbol("cli-main"), &mainfun);
    fiber = janet_fiber(janet_unwrap_function(mainfun), 64, 1, &mainargs);
    fiber->env = env;
    status = janet_loop_fiber(fiber);

    janet_deinit();
    return status;
}
