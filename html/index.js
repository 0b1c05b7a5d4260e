// index.html: endpoint URLs of this origin.

const origin = location.origin;
const ws = origin.replace(/^http/, 'ws');

const set = (id, text) => {
    const el = document.getElementById(id);
    if (el) {
        el.textContent = text;
    }
};

if (/^https?:/.test(origin)) {
    set('whip-url', `${origin}/whip/<stream>`);
    set('whep-url', `${origin}/whep/<stream>`);
    set('ws-url', `${ws}/ws`);
    set('status-url', `${origin}/webrtc/status?stream=<stream>`);
    set('obs-url', `${origin}/whip/test`);

    for (const el of document.querySelectorAll('#embed .origin')) {
        el.textContent = origin;
    }
}
