using System.Diagnostics;
using System.Net;
using System.Text.Json;
using VirtTools.Diagnostics;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Tls;
using VirtTools.UsbIp;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>The holder record the managed server writes at hand-over: how it is written, read back, checked and ignored.</summary>
public sealed class UsbIpHolderRecordTests : IDisposable
{
    private const string FilePath = UsbIpHolderRecord.Directory + "/2-3";
    private readonly TemporaryTree _tree = new("holder");

    private SystemRoot Root => new(_tree.Path);

    private static UsbIpHolderRecord Plain(int pid = 0) =>
        UsbIpHolderRecord.For("2-3", new IPEndPoint(IPAddress.Loopback, 50123), null, DateTime.UtcNow) with { ServerPid = pid > 0 ? pid : Environment.ProcessId };

    private static UsbIpHolderRecord Tls() => UsbIpHolderRecord.For("2-3", new IPEndPoint(IPAddress.Parse("10.0.0.9"), 40000),
        new UsbIpClientIdentity(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), "CN=desk-17.test", new[] { "desk-17.test" }), DateTime.UtcNow);

    [Fact]
    public void A_plain_client_is_its_address_and_port_and_round_trips()
    {
        Plain().Write(Root);
        var read = UsbIpHolderRecord.ReadCurrent(Root, "2-3", UsbIpStatus.InUse)!;
        Assert.Equal(("127.0.0.1:50123", "127.0.0.1:50123", null, null), (read.Client, read.Endpoint, read.Subject, read.Fingerprint));
        Assert.Equal(Environment.ProcessId, read.ServerPid);
    }

    [Fact]
    public void A_TLS_client_is_its_certificate_subject_with_its_fingerprint()
    {
        Tls().Write(Root);
        var read = UsbIpHolderRecord.Read(Root, "2-3")!;
        Assert.Equal(("CN=desk-17.test", "10.0.0.9:40000"), (read.Client, read.Endpoint));
        Assert.Equal("sha256:" + string.Concat(Enumerable.Range(0, 32).Select(i => i.ToString("x2"))), read.Fingerprint);
    }

    [Fact]
    public void An_IPv6_client_is_shown_in_brackets_and_a_mapped_IPv4_one_as_IPv4()
    {
        Assert.Equal("[::1]:7", UsbIpHolderRecord.For("1-1", new IPEndPoint(IPAddress.IPv6Loopback, 7), null, DateTime.UtcNow).Client);
        Assert.Equal("127.0.0.1:7", UsbIpHolderRecord.For("1-1", new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 7), null, DateTime.UtcNow).Client);
    }

    [Fact]
    public void The_record_is_0600_in_a_0700_folder_and_the_parent_stays_readable()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Linux file modes.");
        Plain().Write(Root);
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(_tree.Resolve(FilePath)));
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(_tree.Resolve(UsbIpHolderRecord.Directory)));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(_tree.Resolve("/run/virttools")));
    }

    [Fact]
    public void Delete_removes_the_record_and_a_missing_one_is_no_error()
    {
        Plain().Write(Root);
        UsbIpHolderRecord.Delete(Root, "2-3");
        Assert.Null(_tree.Read(FilePath));
        UsbIpHolderRecord.Delete(Root, "2-3");
    }

    [Theory]
    [InlineData(UsbIpStatus.Available)]
    [InlineData(UsbIpStatus.Error)]
    [InlineData(null)]
    public void A_record_counts_only_while_the_device_is_in_use(UsbIpStatus? status)
    {
        Plain().Write(Root);
        Assert.Null(UsbIpHolderRecord.ReadCurrent(Root, "2-3", status));
    }

    [Fact]
    public void A_record_whose_server_is_gone_is_ignored()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        Assert.True(gone.WaitForExit(30_000));
        Plain(gone.Id).Write(Root);
        Assert.NotNull(UsbIpHolderRecord.Read(Root, "2-3"));
        Assert.Null(UsbIpHolderRecord.ReadCurrent(Root, "2-3", UsbIpStatus.InUse));
    }

    [Fact]
    public void A_record_whose_server_pid_now_names_another_process_is_ignored()
    {
        // The same PID with another start time: the server died and the PID was handed to a newer process.
        var reused = Plain() with { ServerStartTime = Plain().ServerStartTime + 1 };
        reused.Write(Root);
        Assert.NotNull(UsbIpHolderRecord.Read(Root, "2-3"));
        Assert.Null(UsbIpHolderRecord.ReadCurrent(Root, "2-3", UsbIpStatus.InUse));
    }

    [Fact]
    public void The_server_start_time_is_field_22_of_proc_stat_read_past_a_command_name_with_spaces_and_parentheses()
    {
        const string stat = "4242 (virt tools) (x)) S 1 4242 4242 0 -1 4194560 2 0 0 0 0 0 0 0 20 0 1 0 987654 12345 67 18446744073709551615";
        Assert.Equal(987654L, ProcessStartTime.Parse(stat));
        Assert.Null(ProcessStartTime.Parse("4242 (cut short) S 1 2"));
        Assert.Null(ProcessStartTime.Parse("no parenthesis"));
        Assert.Equal(ProcessStartTime.Of(Environment.ProcessId), ProcessStartTime.Of(Environment.ProcessId));
        Assert.True(ProcessStartTime.Of(Environment.ProcessId) > 0);
    }

    [Theory]
    [InlineData("serverStartTime", "0")]
    [InlineData("address", "\"127.0.0.1\\n10.0.0.9: imported\"")]
    [InlineData("address", "\"evil.example\"")]
    [InlineData("subject", "\"CN=a\\nCN=b\"")]
    [InlineData("fingerprint", "\"sha256:12\"")]
    [InlineData("port", "0")]
    [InlineData("port", "70000")]
    [InlineData("serverPid", "-1")]
    [InlineData("busId", "\"2-3/../../etc\"")]
    [InlineData("busId", "\"1-1\"")]
    public void A_hostile_field_makes_the_record_ignored(string field, string json)
    {
        var good = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(WriteGood()))!;
        good[field] = JsonSerializer.Deserialize<JsonElement>(json);
        File.WriteAllText(_tree.Resolve(FilePath), JsonSerializer.Serialize(good));
        Assert.Null(UsbIpHolderRecord.Read(Root, "2-3"));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("")]
    public void A_file_that_is_no_record_is_ignored(string text)
    {
        WriteGood();
        File.WriteAllText(_tree.Resolve(FilePath), text);
        Assert.Null(UsbIpHolderRecord.Read(Root, "2-3"));
    }

    [Fact]
    public void A_huge_file_is_ignored_without_being_read_whole()
    {
        WriteGood();
        using (var stream = File.OpenWrite(_tree.Resolve(FilePath))) stream.SetLength(64L << 20);
        Assert.Null(UsbIpHolderRecord.Read(Root, "2-3"));
    }

    [Fact]
    public void A_symlink_in_place_of_a_record_is_never_followed_and_never_written_through()
    {
        var elsewhere = _tree.Resolve("/elsewhere");
        File.WriteAllText(elsewhere, File.ReadAllText(WriteGood()));
        File.Delete(_tree.Resolve(FilePath));
        File.CreateSymbolicLink(_tree.Resolve(FilePath), elsewhere);
        Assert.Null(UsbIpHolderRecord.Read(Root, "2-3"));
        var refused = Assert.Throws<VirtToolsException>(() => Tls().Write(Root));
        Assert.Equal(StateErrors.FileIsSymlinkId, refused.ErrorId);
        Assert.DoesNotContain("desk-17", File.ReadAllText(elsewhere));
    }

    [Fact]
    public void A_folder_that_leads_out_of_the_root_is_neither_written_nor_read()
    {
        using var outside = new TemporaryTree("holder-outside");
        _tree.Directory("/run");
        // Relative, climbing out: an absolute link would start again at the root, as the kernel would under chroot.
        File.CreateSymbolicLink(_tree.Resolve("/run/virttools"), Path.GetRelativePath(_tree.Resolve("/run"), outside.Path));
        Assert.Equal(SysfsErrors.PathOutsideRootId, Assert.Throws<VirtToolsException>(() => Plain().Write(Root)).ErrorId);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside.Path));

        // A good record out there (as another root's server wrote it) is not read through the link either.
        Plain().Write(new SystemRoot(outside.Path));
        File.Move(Path.Combine(outside.Path, "run/virttools/usbip-holders/2-3"), Path.Combine(outside.Path, "usbip-holders-2-3"));
        Directory.CreateDirectory(Path.Combine(outside.Path, "usbip-holders"));
        File.Move(Path.Combine(outside.Path, "usbip-holders-2-3"), Path.Combine(outside.Path, "usbip-holders/2-3"));
        Assert.Null(UsbIpHolderRecord.Read(Root, "2-3"));
    }

    [Fact]
    public void A_record_with_a_bad_field_is_not_written()
    {
        var refused = Assert.Throws<VirtToolsException>(() => (Plain() with { Subject = "CN=a\nCN=b" }).Write(Root));
        Assert.Equal(UsbIpErrors.ExportRecordInvalidId, refused.ErrorId);
        Assert.Null(_tree.Read(FilePath));
    }

    [Fact]
    public void A_long_subject_with_control_characters_is_kept_escaped_and_cut()
    {
        var identity = new UsbIpClientIdentity(new byte[32], "CN=" + new string('\n', 1000), Array.Empty<string>());
        var record = UsbIpHolderRecord.For("2-3", new IPEndPoint(IPAddress.Loopback, 1), identity, DateTime.UtcNow);
        Assert.Null(record.Problem());
        Assert.True(record.Subject!.Length <= UsbIpHolderRecord.MaxSubjectLength);
        Assert.StartsWith("CN=\\x0a", record.Subject, StringComparison.Ordinal);
    }

    /// <summary>Writes a valid record and returns its file.</summary>
    private string WriteGood()
    {
        Plain().Write(Root);
        return _tree.Resolve(FilePath);
    }

    public void Dispose() => _tree.Dispose();
}
