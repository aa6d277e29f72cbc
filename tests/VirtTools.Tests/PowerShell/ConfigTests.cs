using System.Management.Automation;
using VirtTools.Config;
using VirtTools.Tests.Engine.Config;
using VirtTools.Tests.Support;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// Export-, Test- and Sync-VirtHostConfig through PowerShell, on the captured tree with the kernel double behind
/// -Root and the profile written for it (tests/VirtTools.Tests/Assets/captured-host.yaml).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class ConfigTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly Double _kernel = Double.OnCapturedFixture();

    private Dictionary<string, object?> Args(string? profile = null) => new() { ["root"] = _kernel.RootPath, ["p"] = profile ?? ProfileAssets.CapturedHost };

    private string File(string name, string content)
    {
        var path = _kernel.Tree.Resolve("/profiles/" + name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Test_VirtHostConfig_piped_to_Where_Object_shows_only_what_drifts()
    {
        var drift = _ps.Ok<VirtHostDrift>("param($root, $p) Test-VirtHostConfig -Root $root -Path $p | Where-Object { -not $_.InSync }", Args());
        Assert.Equal(new[] { "ksm.pagesToScan", "0000:00:1f.2", "busId 1-2", "127.0.0.1:3240 busId 2-3" }, drift.Select(d => d.Item));
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void Test_VirtHostConfig_renders_as_a_table()
    {
        var result = _ps.Run("param($root, $p) Test-VirtHostConfig -Root $root -Path $p", Args(), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Matches(@"Area\s+Item\s+Desired\s+Actual\s+InSync", _ps.HostText);
        Assert.Contains("not attached", _ps.HostText);
    }

    [Fact]
    public void Sync_VirtHostConfig_with_WhatIf_writes_nothing_and_says_what_it_would_do()
    {
        var result = _ps.Run("param($root, $p) Sync-VirtHostConfig -Root $root -Path $p -WhatIf", Args(), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Empty(_kernel.Writes);
        Assert.Contains("What if: Performing the operation \"Scan 1000 pages per batch", _ps.HostText);
        Assert.Contains("on target \"PciPassthrough 0000:00:1f.2\"", _ps.HostText);
    }

    [Fact]
    public void Sync_VirtHostConfig_applies_what_drifts_and_an_unreachable_server_fails_only_its_attachment()
    {
        // The profile's attachment names 127.0.0.1:3240, where nothing listens during the tests.
        var result = _ps.Run("param($root, $p) Sync-VirtHostConfig -Root $root -Path $p -InformationVariable summary; $summary", Args());
        var drift = result.Output.Select(o => o.BaseObject).OfType<VirtHostDrift>().ToList();
        Assert.Equal(new[] { "ksm.pagesToScan", "0000:00:1f.2", "busId 1-2" }, drift.Where(d => d.Outcome == SyncOutcome.Applied).Select(d => d.Item));
        var attachment = Assert.Single(drift, d => d.Area == VirtHostArea.UsbIpAttachment);
        Assert.False(attachment.InSync);
        Assert.Equal("UsbIpServerUnreachable", attachment.Error?.ErrorId);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpServerUnreachable,", error.FullyQualifiedErrorId);
        Assert.Same(attachment, error.TargetObject);
        var summary = Assert.Single(result.Output.Select(o => o.BaseObject).OfType<InformationRecord>()).MessageData.ToString();
        Assert.EndsWith("4 unchanged, 3 applied, 0 skipped, 1 rolled back, 0 failed", summary);
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf("0000:00:1f.2"));
        Assert.Equal("usbip-host", _kernel.Usb.DriverOf("1-2"));
    }

    [Fact]
    public void A_failed_item_is_an_error_record_and_its_drift_object_says_it_was_rolled_back()
    {
        _kernel.FailWrite("/sys/bus/pci/drivers_probe", VirtTools.Sysfs.KernelErrno.ENODEV);
        var result = _ps.Run("param($root, $p) Sync-VirtHostConfig -Root $root -Path $p", Args());
        var error = Assert.Single(result.Errors, e => e.FullyQualifiedErrorId.StartsWith("BindFailed,", StringComparison.Ordinal));
        Assert.Equal("0000:00:1f.2", Assert.IsType<VirtHostDrift>(error.TargetObject).Item);
        Assert.Contains(result.Output.Select(o => o.BaseObject).OfType<VirtHostDrift>(), d => d.Outcome == SyncOutcome.RolledBack);
    }

    [Theory]
    [InlineData("Test-VirtHostConfig")]
    [InlineData("Sync-VirtHostConfig")]
    public void A_bad_profile_is_an_error_record_naming_file_line_and_column(string cmdlet)
    {
        var bad = File("bad.yaml", "ksm:\n  run: Run\n  pagestoscan: 10\n");
        var result = _ps.Run($"param($root, $p) {cmdlet} -Root $root -Path $p", Args(bad));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("VirtHostConfigInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Equal(bad, error.TargetObject);
        Assert.Contains("bad.yaml:3:3: unknown key 'pagestoscan'", error.Exception.Message);
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void An_ambiguous_export_is_an_error_record_naming_the_rule_and_nothing_is_synced()
    {
        var profile = File("ambiguous.yaml", "ksm: { pagesToScan: 500 }\nusbip:\n  exports:\n    - match: { vendorId: \"0627\" }\n");
        var result = _ps.Run("param($root, $p) Sync-VirtHostConfig -Root $root -Path $p", Args(profile));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpExportAmbiguous,", error.FullyQualifiedErrorId);
        Assert.Contains("ambiguous.yaml:4:7:", error.Exception.Message);
        Assert.Empty(result.Output);
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void Export_VirtHostConfig_output_reads_back_with_Get_VirtHostConfig()
    {
        var path = _kernel.Tree.Resolve("/profiles/exported.yaml");
        var config = _ps.Ok<VirtHostConfig>("param($root, $p) $null = [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($p)); [IO.File]::WriteAllText($p, (Export-VirtHostConfig -Root $root)); Get-VirtHostConfig -Path $p", Args(path)).Single();
        Assert.Equal("0000:00:02.0", Assert.Single(config.PciPassthrough).Address.ToString());
        Assert.Equal("LAB0001", Assert.Single(config.UsbIp!.Exports).Match.Serial);
    }

    [Fact]
    public void Export_VirtHostConfig_Path_writes_a_profile_that_is_in_sync()
    {
        var path = _kernel.Tree.Resolve("/etc/virttools/host.yaml");
        var drift = _ps.Ok<VirtHostDrift>("param($root, $p) Export-VirtHostConfig -Root $root -Path $p; Test-VirtHostConfig -Root $root -Path $p", Args(path));
        Assert.NotEmpty(drift);
        Assert.All(drift, d => Assert.True(d.InSync, d.ToString()));
    }

    [Fact]
    public void Export_VirtHostConfig_Path_with_WhatIf_writes_no_file()
    {
        var path = _kernel.Tree.Resolve("/etc/virttools/host.yaml");
        _ps.Ok("param($root, $p) Export-VirtHostConfig -Root $root -Path $p -WhatIf", Args(path));
        Assert.False(System.IO.File.Exists(path));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
