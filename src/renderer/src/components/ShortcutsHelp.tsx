import { Kbd } from './Kbd';
import { Modal } from './Modal';
import { windowPresets } from '../viewer/windowing';

const groups: { title: string; rows: [string[], string][] }[] = [
  {
    title: 'Screens',
    rows: [
      [['Alt', '1…5'], 'Studies · Reading · History · Evaluation · Settings'],
      [['?'], 'This help'],
    ],
  },
  {
    title: 'Study list',
    rows: [
      [['/'], 'Filter'],
      [['↑', '↓'], 'Select study'],
      [['Enter'], 'Open study'],
      [['Del'], 'Remove study from the index'],
    ],
  },
  {
    title: 'Viewer',
    rows: [
      [['↑', '↓'], 'Previous / next image (also ← → and the wheel)'],
      [['Home', 'End'], 'First / last image'],
      [['PgUp', 'PgDn'], 'Previous / next series'],
      ...windowPresets.map((p): [string[], string] => [[p.key], `${p.name} W ${p.width} / L ${p.center}`]),
      [['0'], 'Window from the file'],
      [['Right-drag'], 'Window / level'],
      [['Left-drag'], 'Active tool (W: window, P: pan, Z: zoom)'],
      [['Ctrl', 'wheel'], 'Zoom at the cursor (also + / −)'],
      [['I'], 'Invert'],
      [['H', 'V'], 'Flip horizontally / vertically'],
      [['R', 'Space'], 'Reset view'],
    ],
  },
  {
    title: 'Reasoning',
    rows: [
      [['Ctrl', 'Enter'], 'Analyze'],
      [['Esc'], 'Stop the run'],
      [['T'], 'Show / hide the thinking'],
    ],
  },
];

export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} testId="shortcuts-help" wide>
      <div className="shortcut-groups">
        {groups.map((group) => (
          <section key={group.title}>
            <h3>{group.title}</h3>
            <table className="shortcut-table">
              <tbody>
                {group.rows.map(([keys, what]) => (
                  <tr key={what}>
                    <td>
                      {keys.map((k, i) => (
                        <span key={k}>
                          {i > 0 ? ' ' : null}
                          <Kbd>{k}</Kbd>
                        </span>
                      ))}
                    </td>
                    <td>{what}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
    </Modal>
  );
}
