using VirtTools.Tests.Support;

namespace VirtTools.Tests.Engine.Config;

/// <summary>Host profiles kept as files under tests/VirtTools.Tests/Assets.</summary>
public static class ProfileAssets
{
    /// <summary>Written for the captured tree: ksm.pagesToScan, 0000:00:1f.2, export busId 1-2 and the attachment drift.</summary>
    public static string CapturedHost => Path.Combine(RepositoryPaths.Root, "tests", "VirtTools.Tests", "Assets", "captured-host.yaml");
}
