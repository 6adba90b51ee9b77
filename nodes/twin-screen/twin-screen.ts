import type { NodeAPI } from 'node-red';
export default function (RED: NodeAPI): void {
  void RED;
}
