// index.html: the endpoint URLs the pages use (config.js, or the query
// parameters server, whip, whep, ws, status), and links that keep them.

import { endpoints } from './endpoints.js';
import { showEndpoints } from './ui.js';

const set = (id, text) => {
    const el = document.getElementById(id);
    if (el) {
        el.textContent = text;
    }
};

set('whip-url', `${endpoints.whip}<stream>`);
set('whep-url', `${endpoints.whep}<stream>`);
set('ws-url', endpoints.ws);
set('status-url', `${endpoints.status}?stream=<stream>`);
set('obs-url', `${endpoints.whip}test`);

for (const el of document.querySelectorAll('#embed .whep')) {
    el.textContent = endpoints.whep;
}

showEndpoints(endpoints);
