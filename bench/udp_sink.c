/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp_sink.c - the benchmark's floor: a bare recvmmsg receiver.
 *
 *   udp_sink PORT RCVBUF OUT.json
 *
 * Binds 127.0.0.1:PORT with the same receive buffer every contender gets
 * (SO_RCVBUFFORCE, so net.core.rmem_max does not cap it), reads batches of
 * 64 datagrams with recvmmsg until SIGTERM, and counts datagrams, bytes, data
 * records (IPFIX: data set bytes / record size learnt from the template set;
 * NetFlow v9: the header count less template records) and the kernel's own
 * drop counter (SO_RXQ_OVFL). It decodes nothing else: this is what the
 * machine can receive at all, the ceiling every collector is measured against.
 * Built by bench/run with the system compiler, not part of the project build.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM 65536

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static unsigned rd16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: udp_sink PORT RCVBUF OUT.json\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rcvbuf = atoi(argv[2]), one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        perror("bind");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    static uint8_t buf[BATCH][DGRAM];
    static char ctl[BATCH][64];
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    unsigned long long dgrams = 0, bytes = 0, records = 0;
    uint32_t drops = 0;
    unsigned rec_len = 0; /* IPFIX data record size, from the first template */
    printf("receiving\n");
    fflush(stdout);
    while (!stop) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){buf[i], DGRAM};
            mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
                                            .msg_iovlen = 1,
                                            .msg_control = ctl[i],
                                            .msg_controllen = sizeof ctl[i]};
        }
        int n = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("recvmmsg");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            const uint8_t *p = buf[i];
            unsigned len = mm[i].msg_len;
            dgrams++;
            bytes += len;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c != NULL;
                 c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
                    memcpy(&drops, CMSG_DATA(c), sizeof drops);
            if (len < 20)
                continue;
            if (rd16(p) == 9) {
                if (rd16(p + 20) >= 256)
                    records += rd16(p + 2);
                continue;
            }
            for (unsigned off = 16; off + 4 <= len;) {
                unsigned id = rd16(p + off), sl = rd16(p + off + 2);
                if (sl < 4 || off + sl > len)
                    break;
                if (id == 2 && sl >= 12) {
                    unsigned nf = rd16(p + off + 6), sum = 0;
                    for (unsigned f = 0; f < nf && off + 8 + 4 * f + 4 <= len; f++)
                        sum += rd16(p + off + 8 + 4 * f + 2);
                    rec_len = sum;
                } else if (id >= 256 && rec_len > 0) {
                    records += (sl - 4) / rec_len;
                }
                off += sl;
            }
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    FILE *fp = fopen(argv[3], "w");
    if (fp == NULL) {
        perror(argv[3]);
        return 1;
    }
    fprintf(fp,
            "{\"datagrams\":%llu,\"bytes\":%llu,\"records\":%llu,\"kernel_drops\":%u,"
            "\"cpu_s\":%.3f,\"maxrss_kb\":%ld}\n",
            dgrams, bytes, records, drops,
            (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                ru.ru_stime.tv_usec / 1e6,
            ru.ru_maxrss);
    fclose(fp);
    return 0;
}
