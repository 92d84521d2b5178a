import { useState } from 'react';
import { useApp } from '../AppContext';
import { EmptyState } from '../components/EmptyState';
import { ReasoningPanel } from '../reasoning/ReasoningPanel';
import { Viewer, type ViewerImage } from '../viewer/Viewer';

/** The reading room: series, the image, and the reasoning panel beside it. */
export function ReadingScreen({ active }: { active: boolean }) {
  const { study, navigate } = useApp();
  const [image, setImage] = useState<ViewerImage | null>(null);
  if (!study) {
    return (
      <EmptyState
        icon="viewer"
        title="No study open"
        testId="reading-empty"
        actions={
          <button type="button" className="btn btn-primary" onClick={() => navigate('studies')}>
            Go to the study list
          </button>
        }
      >
        Select a study in the list and press Enter (or double-click it).
      </EmptyState>
    );
  }
  return (
    <div className="reading-screen">
      <Viewer key={`viewer-${study.studyInstanceUid}`} study={study} active={active} onImageChange={setImage} />
      <ReasoningPanel key={`panel-${study.studyInstanceUid}`} study={study} image={image} active={active} />
    </div>
  );
}
