using VirtTools.Diagnostics;

namespace VirtTools.State;

/// <summary>The failures of VirtTools' own state and configuration files, with their stable ErrorIds.</summary>
public static class StateErrors
{
    public const string FileIsSymlinkId = "StateFileIsSymlink";
    public const string LockTimeoutId = "StateFileLocked";

    public static VirtToolsException FileIsSymlink(string path) => new(FileIsSymlinkId, FailureKind.InvalidData,
        $"{path} is a symlink: VirtTools writes its own files in place and never through a link, which could send the write anywhere.",
        $"Check who created the link (ls -l {path}), then delete it and try again.", path);

    public static VirtToolsException LockTimeout(string path, TimeSpan waited) => new(LockTimeoutId, FailureKind.ResourceBusy,
        $"Another VirtTools process (a shell or the agent) has held the lock on {path} for {waited.TotalSeconds:0.#} s.",
        $"Wait for it to finish and try again; 'fuser -v {path}.lock' shows who holds the lock.", path);
}
