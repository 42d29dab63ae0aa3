#include "app/PulseServer.h"

int main(int argc, char** argv) {
    pulse::app::PulseServer server;
    return server.run(argc, argv);
}
