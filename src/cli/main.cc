#include "cli/app.h"

int main(int argc, char** argv) { return vouch::cli::run(argc, argv); }
