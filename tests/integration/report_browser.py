#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Render a report page in headless Chromium (no network, no sandbox) over the
# DevTools protocol on a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out, each
# message JSON + NUL), and print what a reader would see as JSON:
#   {"tables": [ids], "images": [[src, complete, naturalWidth]], "nonblank": F}
# and write a full-page screenshot. The page's own code is never trusted:
# image loading is read from the browser's DOM after the load event, the
# screenshot is decoded here (PNG: zlib + row filters) and the share of pixels
# that are not the page background is measured.
#   report_browser.py URL SCREENSHOT.png
import base64, json, os, struct, subprocess, sys, tempfile, time, zlib


def png_pixels(data):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG."""
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6), f'PNG type {ctype}/{depth}'
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def nonblank(data):
    w, h, bpp, rows = png_pixels(data)
    seen = {}
    for y in range(0, h, 4):
        r = rows[y]
        for x in range(0, w, 4):
            px = bytes(r[x * bpp:x * bpp + 3])
            seen[px] = seen.get(px, 0) + 1
    # the most common colour is the background; a blank page is nearly all of it
    return 1 - max(seen.values()) / sum(seen.values())


class Browser:
    def __init__(self):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix='teiten-chromium.')

        def fds():
            # via fresh numbers, so a pipe end already at 3 or 4 is not clobbered
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
        args = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                '--no-first-run', '--disable-background-networking', '--disable-component-update',
                '--disable-sync', '--disable-extensions', '--hide-scrollbars',
                '--user-data-dir=' + self.profile, '--remote-debugging-pipe', 'about:blank']
        self.proc = subprocess.Popen(args, preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf, self.next_id, self.events = b'', 0, []

    def _read(self):
        while b'\0' not in self.buf:
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError('chromium closed the pipe')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        m = {'id': self.next_id, 'method': method, 'params': params}
        if session:
            m['sessionId'] = session
        os.write(self.to_child, json.dumps(m).encode() + b'\0')
        while True:
            r = self._read()
            if r.get('id') == self.next_id:
                if 'error' in r:
                    raise RuntimeError(f'{method}: {r["error"]}')
                return r['result']
            self.events.append(r)

    def wait_event(self, name, deadline):
        while time.time() < deadline:
            for i, e in enumerate(self.events):
                if e.get('method') == name:
                    return self.events.pop(i)
            self.events.append(self._read())
        raise RuntimeError(f'no {name} before the deadline')

    def close(self):
        try:
            self.call('Browser.close')
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        subprocess.run(['rm', '-rf', self.profile])


def main():
    url, shot = sys.argv[1], sys.argv[2]
    b = Browser()
    try:
        target = b.call('Target.createTarget', url='about:blank')['targetId']
        s = b.call('Target.attachToTarget', targetId=target, flatten=True)['sessionId']
        b.call('Page.enable', session=s)
        b.call('Emulation.setDeviceMetricsOverride', session=s, width=1280, height=900,
               deviceScaleFactor=1, mobile=False)
        b.call('Page.navigate', session=s, url=url)
        b.wait_event('Page.loadEventFired', time.time() + 60)
        probe = ('JSON.stringify({tables: Array.from(document.querySelectorAll("table[id]"))'
                 '.map(t => t.id), images: Array.from(document.images).map(i => '
                 '[i.getAttribute("src"), i.complete, i.naturalWidth]), height: '
                 'document.documentElement.scrollHeight, scripts: document.scripts.length})')
        seen = json.loads(b.call('Runtime.evaluate', session=s, expression=probe,
                                 returnByValue=True)['result']['value'])
        b.call('Emulation.setDeviceMetricsOverride', session=s, width=1280,
               height=min(seen['height'], 8000), deviceScaleFactor=1, mobile=False)
        png = base64.b64decode(b.call('Page.captureScreenshot', session=s, format='png')['data'])
        open(shot, 'wb').write(png)
        seen['nonblank'] = round(nonblank(png), 4)
        print(json.dumps(seen))
    finally:
        b.close()


main()
