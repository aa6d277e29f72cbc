using System.Management.Automation;
using VirtTools.Tests.Engine.UsbIp;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>Connect-UsbIpDevice and Disconnect-UsbIpDevice through a hosted runspace, the vhci_hcd double behind -Root.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class UsbIpAttachTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();

    /// <summary>The captured tree, whose port 15 holds an import, with the record usbip attach would have left for it.</summary>
    private static Double CapturedWithRecord(string host)
    {
        var kernel = Double.OnCapturedFixture();
        kernel.Tree.File("/run/vhci_hcd/port15", $"{host} 3240 2-3\n", newline: false);
        return kernel;
    }

    private IReadOnlyList<PSObject> Ok(string script, Double kernel) => _ps.Ok(script, new Dictionary<string, object?> { ["r"] = kernel.RootPath });

    [Fact]
    public async Task Get_UsbIpDevice_piped_to_Connect_UsbIpDevice_WhatIf_imports_and_writes_nothing()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnCapturedFixture();
        var output = _ps.Ok("param($p, $r) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p | Connect-UsbIpDevice -Root $r -WhatIf",
            new Dictionary<string, object?> { ["p"] = server.Port, ["r"] = kernel.RootPath });
        Assert.Empty(output);
        Assert.Contains($"2-3 on 127.0.0.1:{server.Port}", _ps.HostText);
        Assert.Empty(kernel.Writes);
        Assert.Equal((0L, 1L), (server.Server.Imports, server.Server.Connections));
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port16"));
    }

    [Fact]
    public async Task Connect_UsbIpDevice_binds_Get_UsbIpDevice_output_and_returns_the_attached_port()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnCapturedFixture();
        var port = _ps.Ok<UsbIpPort>("param($p, $r) Get-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p | Connect-UsbIpDevice -Root $r -Confirm:$false",
            new Dictionary<string, object?> { ["p"] = server.Port, ["r"] = kernel.RootPath }).Single();
        Assert.Equal((16, "127.0.0.1", server.Port, "2-3"), (port.Port, port.RemoteHost, port.RemoteTcpPort, port.RemoteBusId?.ToString()));
        Assert.Equal(new[] { "2-3" }, ((UsbIpServerFixture.RecordingHandoff)server.Handoff).HandedOver);
    }

    [Fact]
    public void Get_UsbIpPort_InUse_piped_to_Disconnect_UsbIpDevice_WhatIf_writes_nothing()
    {
        using var kernel = CapturedWithRecord("127.0.0.1");
        Assert.Empty(Ok("param($r) Get-UsbIpPort -InUse -Root $r | Disconnect-UsbIpDevice -WhatIf", kernel));
        Assert.Contains("vhci_hcd.0 port 15 (2-3 from 127.0.0.1)", _ps.HostText);
        Assert.Empty(kernel.Writes);
        Assert.NotNull(kernel.Tree.Read("/run/vhci_hcd/port15"));
    }

    [Fact]
    public void Get_UsbIpPort_InUse_piped_to_Disconnect_UsbIpDevice_detaches_and_removes_the_record()
    {
        using var kernel = CapturedWithRecord("127.0.0.1");
        Ok("param($r) Get-UsbIpPort -InUse -Root $r | Disconnect-UsbIpDevice -Confirm:$false", kernel);
        Assert.Equal(("/sys/devices/platform/vhci_hcd.0/detach", "15\n"), (kernel.Writes.Single().SystemPath, kernel.Writes.Single().Text));
        Assert.Null(kernel.Tree.Read("/run/vhci_hcd/port15"));
    }

    [Fact]
    public void Disconnect_UsbIpDevice_by_server_and_busid_finds_the_port_from_the_records()
    {
        using var kernel = CapturedWithRecord("192.0.2.10");
        Ok("param($r) Disconnect-UsbIpDevice -ComputerName 192.0.2.10 -BusId 2-3 -Root $r -Confirm:$false", kernel);
        Assert.Equal("15\n", kernel.Writes.Single().Text);
    }

    [Fact]
    public async Task No_free_port_of_the_device_speed_is_error_VhciNoFreePort_with_the_busid_as_target()
    {
        await using var server = new UsbIpServerFixture();
        using var kernel = Double.OnEmptyTree();
        kernel.Usb.AddVhci(controllers: 1, portsPerHub: 1);
        kernel.Root.Writer.Write("/sys/devices/platform/vhci_hcd.0/attach", "1 7 65537 5");
        var result = _ps.Run("param($p, $r) Connect-UsbIpDevice -ComputerName 127.0.0.1 -TcpPort $p -BusId 2-3 -Root $r -Confirm:$false",
            new Dictionary<string, object?> { ["p"] = server.Port, ["r"] = kernel.RootPath });
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("VhciNoFreePort,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.LimitsExceeded, error.CategoryInfo.Category);
        Assert.Equal("2-3", error.TargetObject.ToString());
        Assert.Contains("1 controller × 1 SuperSpeed", error.Exception.Message);
        Assert.Contains("CONFIG_USBIP_VHCI_HC_PORTS", error.ErrorDetails.RecommendedAction);
    }

    [Fact]
    public void Disconnecting_a_free_port_is_error_UsbIpPortNotInUse_with_the_port_as_target()
    {
        using var kernel = Double.OnCapturedFixture();
        var result = _ps.Run("param($r) Disconnect-UsbIpDevice -Port 3, 15 -Root $r -Confirm:$false", new Dictionary<string, object?> { ["r"] = kernel.RootPath });
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("UsbIpPortNotInUse,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal(3, error.TargetObject);
        Assert.Equal("15\n", kernel.Writes.Single().Text);
    }

    public void Dispose() => _ps.Dispose();
}
