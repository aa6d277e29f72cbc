using System.Management.Automation;
using VirtTools.Tests.Engine.UsbIp;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// -Container on Connect-, Disconnect-UsbIpDevice and Get-UsbIpPort through a hosted runspace, the vhci_hcd double
/// behind -Root. A tree under -Root has no containers, so attaching into one is refused there before any import.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class UsbIpContainerTests : IDisposable
{
    private const string Record = "127.0.0.1 3240 2-3\ncontainer desk042 4242\nnode /dev/bus/usb/004/002 c 189 385\nnode /dev/sda b 8 0\n";

    private readonly PowerShellHarness _ps = new();

    public void Dispose() => _ps.Dispose();

    /// <summary>The captured tree, whose port 15 holds the stick, recorded as given to container desk042.</summary>
    private static Double CapturedGivenToDesk042()
    {
        var kernel = Double.OnCapturedFixture();
        kernel.Tree.File("/run/vhci_hcd/port15", Record, newline: false);
        return kernel;
    }

    private static Dictionary<string, object?> Args(Double kernel, int? port = null) => new() { ["r"] = kernel.RootPath, ["p"] = port };

    [Fact]
    public void Get_UsbIpPort_shows_the_container_its_process_and_nodes_and_Container_lists_only_its_ports()
    {
        using var kernel = CapturedGivenToDesk042();
        var port = _ps.Ok<UsbIpPort>("param($r) Get-UsbIpPort -Root $r -Container desk042", Args(kernel)).Single();
        Assert.Equal((15, "desk042", (int?)4242), (port.Port, port.Container, port.ContainerProcessId));
        Assert.Equal(new[] { "/dev/bus/usb/004/002", "/dev/sda" }, port.ContainerNodes);
        Assert.Single(_ps.Ok("param($r) Get-UsbIpPort -Root $r -Container DESK*", Args(kernel)));
        Assert.Empty(_ps.Ok("param($r) Get-UsbIpPort -Root $r -Container desk043", Args(kernel)));
        Assert.Empty(_ps.Ok("param($r) Get-UsbIpPort -Root $r -Container desk042 -Free", Args(kernel)));
    }

    [Fact]
    public void The_port_table_has_a_Container_column()
    {
        using var kernel = CapturedGivenToDesk042();
        var result = _ps.Run("param($r) Get-UsbIpPort -Root $r -InUse", Args(kernel), render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        var lines = _ps.HostText.Split('\n');
        Assert.Contains(lines, l => l.Contains("Container") && l.Contains("LocalBusId"));
        Assert.Contains(lines, l => l.Contains("4-1") && l.Contains("desk042") && l.Contains("127.0.0.1:3240/2-3"));
    }

    [Fact]
    public async Task Connect_UsbIpDevice_Container_under_a_root_is_ContainerLiveSystemOnly_before_any_import()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnCapturedFixture();
        var result = _ps.Run("param($p, $r) Connect-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p -BusId 2-3 -Container deskB -Root $r -Confirm:$false",
            Args(kernel, server.Port));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("ContainerLiveSystemOnly,", error.FullyQualifiedErrorId);
        Assert.Equal(0L, server.Server.Imports);
        Assert.Empty(kernel.Writes);
    }

    [Theory]
    [InlineData("desk 42")]
    [InlineData("-rf")]
    public async Task A_container_name_LXC_tools_could_misread_is_ContainerInvalidName(string name)
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnCapturedFixture();
        var args = Args(kernel, server.Port);
        args["c"] = name;
        var error = Assert.Single(_ps.Run("param($p, $r, $c) Connect-UsbIpDevice 127.0.0.1 2-3 -TcpPort $p -Container $c -Root $r -Confirm:$false", args).Errors);
        Assert.StartsWith("ContainerInvalidName,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal(0L, server.Server.Imports);
    }

    [Fact]
    public async Task Connect_UsbIpDevice_Container_WhatIf_names_the_container_and_imports_nothing()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnCapturedFixture();
        Assert.Empty(_ps.Ok("param($p, $r) Connect-UsbIpDevice 127.0.0.1 2-3 -TcpPort $p -Container deskB -DedicatedController -Root $r -WhatIf", Args(kernel, server.Port)));
        Assert.Contains("for container deskB", _ps.HostText);
        Assert.Equal(0L, server.Server.Imports);
    }

    [Fact]
    public void DedicatedController_without_Container_asks_for_the_container()
    {
        using var kernel = Double.OnCapturedFixture();
        var result = _ps.Run("param($r) Connect-UsbIpDevice 127.0.0.1 2-3 -DedicatedController -Root $r -WhatIf", Args(kernel));
        Assert.False(result.Succeeded);
        var error = result.Terminating?.ErrorRecord ?? result.Errors.First();
        Assert.StartsWith("MissingMandatoryParameter,", error.FullyQualifiedErrorId);
        Assert.Contains("Container", error.Exception.Message);
    }

    [Fact]
    public void Disconnect_UsbIpDevice_of_a_container_port_WhatIf_names_the_container()
    {
        using var kernel = CapturedGivenToDesk042();
        Assert.Empty(_ps.Ok("param($r) Get-UsbIpPort -Root $r -Container desk042 | Disconnect-UsbIpDevice -WhatIf", Args(kernel)));
        Assert.Contains("given to container desk042", _ps.HostText);
        Assert.Empty(kernel.Writes);
    }

    [Fact]
    public void Disconnect_UsbIpDevice_of_a_container_port_under_a_root_leaves_the_port_attached()
    {
        using var kernel = CapturedGivenToDesk042();
        var error = Assert.Single(_ps.Run("param($r) Disconnect-UsbIpDevice -Port 15 -Root $r -Confirm:$false", Args(kernel)).Errors);
        Assert.StartsWith("ContainerLiveSystemOnly,", error.FullyQualifiedErrorId);
        Assert.Empty(kernel.Writes);
        Assert.Equal(Record, kernel.Tree.Read("/run/vhci_hcd/port15"));
    }
}
