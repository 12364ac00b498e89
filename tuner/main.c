/* main.c - the fluidtune command line (placeholder until the commands land). */
#include <stdio.h>
int main(void) { puts("fluidtune"); return 0; }
