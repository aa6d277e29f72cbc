using VirtTools.Diagnostics;

namespace VirtTools.Sandbox;

/// <summary>The failures of making, removing and snapshotting sandboxes, with their stable ErrorIds.</summary>
public static class SandboxErrors
{
    public const string InsideTestDriveId = "SandboxInsideTestDrive";
    public const string PathNotEmptyId = "SandboxPathNotEmpty";
    public const string NotASandboxId = "NotAVirtHostSandbox";
    public const string SnapshotNotFoundId = "VirtHostSnapshotNotFound";
    public const string SnapshotInvalidId = "VirtHostSnapshotInvalid";
    public const string SnapshotTooLargeId = "VirtHostSnapshotTooLarge";

    public static VirtToolsException InsideTestDrive(string path, string testDrive) => new(InsideTestDriveId, FailureKind.InvalidArgument,
        $"A sandbox cannot live in Pester's TestDrive ({testDrive}): '{path}' is inside it. Pester empties the TestDrive by " +
        "enumerating it with symlinks followed, and a sysfs tree is full of symlink loops, so that never ends.",
        "Leave out -Path (the sandbox goes to a new folder under the temp directory) and call Remove-VirtHostSandbox in AfterAll.",
        path);

    public static VirtToolsException PathNotEmpty(string path) => new(PathNotEmptyId, FailureKind.InvalidArgument,
        $"'{path}' already exists and is not empty: a sandbox is made in a new or empty folder.",
        "Give a path that does not exist yet, or leave out -Path.", path);

    public static VirtToolsException NotASandbox(string path) => new(NotASandboxId, FailureKind.InvalidArgument,
        $"'{path}' is not a VirtTools sandbox (it has no {SandboxMarker.FileName}), so it is left alone.",
        "Pass the sandbox object New-VirtHostSandbox returned, or its Root.", path);

    public static VirtToolsException SnapshotNotFound(string path) => new(SnapshotNotFoundId, FailureKind.NotFound,
        $"The snapshot '{path}' does not exist.", "Make one with Save-VirtHostSnapshot, or use -FromFixture.", path);

    public static VirtToolsException SnapshotInvalid(string path, Exception cause) => new(SnapshotInvalidId, FailureKind.InvalidData,
        $"'{path}' is not a snapshot VirtTools can unpack: {cause.Message}",
        "Pass a .tgz made by Save-VirtHostSnapshot (or by tar -czf of a tree laid out like /).", path, cause);

    public static VirtToolsException SnapshotTooLarge(string root, int limit) => new(SnapshotTooLargeId, FailureKind.LimitExceeded,
        $"The snapshot of {root} would hold more than {limit} entries, far more than any host's sysfs parts VirtTools reads.",
        "Check that -Root points at a system tree (or a copy of one), not at a folder that holds much else.", root);
}
