using VirtTools.Hypervisor;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;
using Xunit;

namespace VirtTools.Tests.PowerShell;

/// <summary>Get-UsbIpCapacity and Test-VirtHost -MinimumFreePorts through a hosted runspace, on the captured tree.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class UsbIpCapacityTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    private static Dictionary<string, object?> Root(string? path = null) => new() { ["r"] = path ?? CapturedFixture.Shared };

    [Fact]
    public void Get_UsbIpCapacity_writes_one_object_per_speed_without_a_plan()
    {
        var speeds = _ps.Ok<UsbIpCapacity>("param($r) Get-UsbIpCapacity -Root $r", Root());
        Assert.Equal(new[] { (VhciHub.HighSpeed, 120, 120), (VhciHub.SuperSpeed, 120, 119) }, speeds.Select(s => (s.Hub, s.Ports, s.Free)));
        Assert.All(speeds, s => Assert.Null(s.CanHold));
    }

    [Fact]
    public void Desktops_plans_400_desktops_by_position_with_one_device_each()
    {
        var high = _ps.Ok<UsbIpCapacity>("param($r) Get-UsbIpCapacity 400 -Root $r", Root()).First();
        Assert.Equal((400, 1, false, 27), (high.Wanted, high.DevicesPerDesktop, high.CanHold, high.Needs!.Controllers));
    }

    [Fact]
    public void DevicesPerDesktop_without_Desktops_is_refused_by_the_binder()
    {
        var result = _ps.Run("param($r) Get-UsbIpCapacity -DevicesPerDesktop 2 -Root $r", Root());
        Assert.StartsWith("MissingMandatoryParameter,", FirstError(result).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-Desktops 0")]
    [InlineData("-Desktops 100001")]
    [InlineData("-Desktops 1 -DevicesPerDesktop 128")]
    public void A_target_out_of_range_is_refused_by_the_binder(string arguments)
    {
        var result = _ps.Run($"param($r) Get-UsbIpCapacity {arguments} -Root $r", Root());
        Assert.StartsWith("ParameterArgumentValidationError,", FirstError(result).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_vhci_hcd_Get_UsbIpCapacity_writes_VhciNotLoaded()
    {
        using var tree = new TemporaryTree().Directory("/sys/devices/platform/serial8250");
        var result = _ps.Run("param($r) Get-UsbIpCapacity -Root $r", Root(tree.Path));
        Assert.StartsWith(VhciErrors.NotLoaded + ",", Assert.Single(result.Errors).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [Fact]
    public void The_UsbIpCapacity_table_view_shows_the_plan()
    {
        var result = _ps.Run("param($r) Get-UsbIpCapacity -Desktops 400 -Root $r", Root(), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Contains("CanHold", _ps.HostText);
        Assert.Contains("CONFIG_USBIP_VHCI_NR_HCS=27", _ps.HostText);
        Assert.DoesNotContain("ModuleParameters", _ps.HostText);
    }

    [Fact]
    public void Test_VirtHost_MinimumFreePorts_sets_the_warning_threshold()
    {
        var checks = _ps.Ok<VirtHostCheck>("param($r) Test-VirtHost USBIP -MinimumFreePorts 120 -Root $r", Root());
        Assert.Equal(CheckResult.Warn, checks.Single(c => c.Name == "vhci_hcd SuperSpeed ports free").Result);
        Assert.Equal(CheckResult.Pass, checks.Single(c => c.Name == "vhci_hcd HighSpeed ports free").Result);
    }

    private static System.Management.Automation.ErrorRecord FirstError(VirtTools.Host.Shell.ShellResult result) =>
        result.Terminating?.ErrorRecord ?? result.Errors.FirstOrDefault() ?? throw new Xunit.Sdk.XunitException("the script wrote no error");

    public void Dispose() => _ps.Dispose();
}
