using System.Management.Automation;
using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>Test-PciPassthrough in a hosted runspace on the captured tree: binding, pipelines, errors and the table view.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class PciReadinessCmdletTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static Dictionary<string, object?> Fixture => new() { ["r"] = CapturedFixture.Shared };

    [Fact]
    public void Without_an_address_every_function_is_tested_once()
    {
        var all = _ps.Ok<PciPassthroughReadiness>("param($r) Test-PciPassthrough -Root $r", Fixture);
        var functions = _ps.Ok<PciDevice>("param($r) Get-PciDevice -Root $r", Fixture);
        Assert.Equal(functions.Select(f => f.Address), all.Select(r => r.Address));
    }

    [Fact]
    public void Functions_pipe_in_from_Get_PciDevice_by_address_and_root()
    {
        var piped = _ps.Ok<PciPassthroughReadiness>("param($r) Get-PciDevice -Root $r -Class 0x0200 | Test-PciPassthrough", Fixture);
        Assert.Equal("0000:00:02.0", Assert.Single(piped).Address.ToString());
    }

    [Fact]
    public void The_host_and_ISA_bridges_of_the_captured_tree_are_Blocked_by_the_bridge_check()
    {
        var blocked = _ps.Ok<PciPassthroughReadiness>("param($r) Test-PciPassthrough -Root $r | Where-Object Verdict -eq Blocked", Fixture);
        Assert.Equal(new[] { "0000:00:00.0", "0000:00:1f.0" }, blocked.Select(b => b.Address.ToString()));
        Assert.All(blocked, b => Assert.Equal(PciReadinessResult.Fail, b.Findings.Single(f => f.Check == "Bridge").Result));
    }

    [Fact]
    public void Readiness_pipes_into_Set_PciPassthrough_by_address()
    {
        var result = _ps.Run("param($r) Test-PciPassthrough -Root $r 00:02.0 | Set-PciPassthrough -WhatIf", Fixture);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Equal("0000:00:02.0", Assert.IsType<PciDevice>(Assert.Single(result.Output).BaseObject).Address.ToString());
    }

    [Fact]
    public void An_address_with_no_function_is_PciDeviceNotFound_and_the_others_are_still_tested()
    {
        var result = _ps.Run("param($r) Test-PciPassthrough -Root $r 00:02.0, 00:09.0", Fixture);
        Assert.Equal("0000:00:02.0", Assert.IsType<PciPassthroughReadiness>(Assert.Single(result.Output).BaseObject).Address.ToString());
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("PciDeviceNotFound,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(PciAddress.Parse("00:09.0"), error.TargetObject); // the input, as -Address bound it
    }

    [Fact]
    public void The_table_shows_address_verdict_and_the_checks_that_did_not_pass()
    {
        var text = string.Join("\n", _ps.Ok<string>("param($r) Test-PciPassthrough -Root $r 00:00.0 | Out-String -Width 200", Fixture));
        Assert.Matches(@"(?m)^Address\s+Verdict\s+Findings\s*$", text);
        Assert.Matches(@"(?m)^0000:00:00\.0\s+Blocked\s+Bridge Fail", text);
    }

    [Fact]
    public void Findings_show_as_a_table_of_check_result_evidence_and_reason()
    {
        var text = string.Join("\n", _ps.Ok<string>("param($r) (Test-PciPassthrough -Root $r 00:02.0).Findings | Out-String -Width 250", Fixture));
        Assert.Matches(@"(?m)^Check\s+Result\s+Evidence\s+Reason\s*$", text);
        Assert.Contains("/sys/kernel/iommu_groups/2/reserved_regions", text);
    }

    public void Dispose() => _ps.Dispose();
}
