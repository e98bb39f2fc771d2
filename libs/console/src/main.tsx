import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles/console.css';
import { ApiClient } from './ui/api-client';
import { ConsoleApp } from './ui/console-app';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<ConsoleApp client={new ApiClient()} />, root);
}
