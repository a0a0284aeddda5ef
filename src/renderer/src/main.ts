import { mount } from 'svelte';
import App from './App.svelte';
import { pickEngine } from './lib/engine.js';
import './app.css';

// The engine is chosen once here and handed down, so components and tests never reach for
// globals: App works the same over Electron IPC, the web bridge or a test fake.
const { engine, connection } = pickEngine();
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element to mount Embedsmith into');

export default mount(App, { target, props: { engine, connection } });
