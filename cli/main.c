/* cli/main.c — the verinfer command: dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: verinfer <command> [options]\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "verinfer: unknown command '%s'\n", argv[1]);
    return 2;
}
