using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// What a remote caller sees: objects rebuilt from PowerShell's serialization, at the depth remoting uses (1).
/// The Pester file tests/pester/Remoting.Tests.ps1 covers every reader over real SSH; this covers the host profile,
/// whose table needs what lies deeper than one level (the module's types file asks for it).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class RemotingTests : IDisposable
{
    private const string RoundTrip =
        "[System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($x))";

    private readonly PowerShellHarness _ps = new();
    private readonly TemporaryTree _files = new("profiles");

    [Fact]
    public void A_host_profile_arrives_with_its_export_count_and_ksm_run_state_in_its_table()
    {
        _files.File("/host.yaml", "ksm: { run: Unmerge }\nusbip:\n  exports:\n    - match: { vendorId: \"0627\" }\n    - match: { busId: 2-3 }\n");
        var file = new Dictionary<string, object?> { ["f"] = _files.Resolve("/host.yaml") };
        Assert.True(_ps.Run("param($f) Get-VirtHostConfig $f", file, render: true).Succeeded);
        var live = _ps.HostText;
        Assert.True(_ps.Run($"param($f) $x = Get-VirtHostConfig $f; {RoundTrip}", file, render: true).Succeeded);
        var arrived = _ps.HostText[live.Length..];
        Assert.Matches(@"host\.yaml\s+2\s+0\s+0\s+Unmerge", live);
        Assert.Equal(live, arrived);
    }

    public void Dispose()
    {
        _ps.Dispose();
        _files.Dispose();
    }
}
