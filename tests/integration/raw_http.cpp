#include "raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace pulse::test {
namespace {

using Clock = std::chrono::steady_clock;

// Whether `text` holds `enough` whole responses (header plus Content-Length bytes of body).
bool complete(const std::string& text, int enough) {
    size_t pos = 0;
    for (int i = 0; i < enough; ++i) {
        size_t start = text.find("HTTP/1.", pos);
        if (start == std::string::npos) return false;
        size_t end = text.find("\r\n\r\n", start);
        if (end == std::string::npos) return false;
        size_t length = 0;
        size_t cl = text.find("Content-Length: ", start);
        if (cl != std::string::npos && cl < end) length = std::stoul(text.substr(cl + 16));
        if (text.size() < end + 4 + length) return false;
        pos = end + 4 + length;
    }
    return true;
}

}  // namespace

RawConnection::RawConnection(int port, const std::string& from) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    if (from != "127.0.0.1" && ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        ::close(fd);
        return;
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        ::close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_ = fd;
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

RawConnection::RawConnection(RawConnection&& other) noexcept : fd_(other.fd_), closed_(other.closed_) {
    other.fd_ = -1;
}

bool RawConnection::send(const std::string& bytes) {
    size_t sent = 0;
    while (fd_ >= 0 && sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return fd_ >= 0;
}

void RawConnection::shutdownWrite() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

std::string RawConnection::read(int ms, int enough) {
    std::string out;
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    // Past the deadline it still takes what is already there (read(0): what has arrived, and whether the
    // server closed), and stops at the first look that finds nothing.
    while (fd_ >= 0 && !closed_) {
        auto left = std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
        char buf[16384];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            closed_ = true;
            break;
        }
        out.append(buf, static_cast<size_t>(n));
        if (enough > 0 && complete(out, enough)) break;
    }
    return out;
}

bool RawConnection::closesWithin(int ms) {
    read(ms, 0);
    return closed_;
}

TimedAnswer timedGet(int port, const std::string& path, const std::string& headerLines, int timeoutMs) {
    auto started = Clock::now();
    TimedAnswer a;
    RawConnection c(port);
    if (c.connected() && c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headerLines +
                                "Connection: close\r\n\r\n")) {
        a.text = c.read(timeoutMs);
        a.status = statusOf(a.text);
    }
    a.elapsedMs = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    return a;
}

int statusOf(const std::string& response) {
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
    return std::atoi(response.c_str() + 9);
}

int countResponses(const std::string& text) {
    int n = 0;
    // Responses follow each other without a separator: a status line is "HTTP/1.x NNN " anywhere.
    for (size_t pos = text.find("HTTP/1."); pos != std::string::npos; pos = text.find("HTTP/1.", pos + 1))
        if (pos + 13 <= text.size() && text[pos + 8] == ' ' &&
            std::isdigit(static_cast<unsigned char>(text[pos + 9])) && text[pos + 12] == ' ')
            ++n;
    return n;
}

void raiseDescriptorLimit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

}  // namespace pulse::test
