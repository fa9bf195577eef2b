import { createRouter, createWebHashHistory } from 'vue-router';
import PodcastsView from './views/PodcastsView.vue';
import StatusView from './views/StatusView.vue';

// Hash history: the same URLs work from a file:// page in Electron and from `earshot serve`.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'podcasts', component: PodcastsView },
    { path: '/status', name: 'status', component: StatusView },
  ],
});
