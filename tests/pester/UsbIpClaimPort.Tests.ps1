# Claimed ports across processes, in real pwsh: another pwsh holds a port's claim (Start-UsbIpServer -ClaimPort on a
# sandbox of the captured host, whose kernel behaviour lives in that process), as `virttools usbipd --claim-port` or the
# agent would; Remove-UsbIpExport in this pwsh reaches it through its socket under the root
# (/run/virttools/usbipd-PID.sock), and the device stays on the generic driver, unconfigured, with no host driver.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $previousTemp = $env:TMPDIR
    if (Test-Path /dev/shm -PathType Container) { $env:TMPDIR = '/dev/shm/' }   # as Sandbox.Tests: unpacking is faster there
    $copy = New-FixtureCopy
    $archive = Join-Path ([IO.Path]::GetTempPath()) "virttools-claim-$([guid]::NewGuid()).tgz"
    $null = Save-VirtHostSnapshot -Path $archive -Root $copy

    # The other pwsh: this one again as a new process (`dotnet pwsh.dll` when it runs as a .NET tool), its script given
    # encoded; it says "ready ROOT" once its server holds the port, stops its server when a line arrives on stdin, and
    # says "stopped DRIVERS" with the tablet's interface drivers then.
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModuleManifest'
`$sandbox = New-VirtHostSandbox -Snapshot '$archive'
try {
    `$server = Start-UsbIpServer -Root `$sandbox.Root -Address 127.0.0.1 -TcpPort 0 -ClaimPort 1-2
    [Console]::Out.WriteLine("ready `$(`$sandbox.Root)")
    `$null = [Console]::In.ReadLine()
    Stop-UsbIpServer -InputObject `$server
    [Console]::Out.WriteLine("stopped `$((Get-UsbDevice -Root `$sandbox.Root 1-2).InterfaceDrivers -join ',')")
}
finally { Remove-VirtHostSandbox `$sandbox }
"@
    $self = (Get-Process -Id $PID).Path
    $start = [Diagnostics.ProcessStartInfo]::new($self)
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { $start.ArgumentList.Add([Environment]::GetCommandLineArgs()[0]) }
    foreach ($argument in '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))) {
        $start.ArgumentList.Add($argument)
    }
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $holder = [Diagnostics.Process]::Start($start)
    $errors = $holder.StandardError.ReadToEndAsync()

    # The holder's next line that starts with $Prefix (what pwsh prints besides is skipped), without it; $null when none
    # came within a minute (a loaded CI machine starts a pwsh and imports the module in seconds) or the holder ended.
    function Read-HolderLine([string] $Prefix) {
        $deadline = [DateTime]::UtcNow.AddMinutes(1)
        while ([DateTime]::UtcNow -lt $deadline) {
            $line = $holder.StandardOutput.ReadLineAsync()
            if (-not $line.Wait($deadline - [DateTime]::UtcNow) -or $null -eq $line.Result) { return $null }
            if ($line.Result.StartsWith($Prefix)) { return $line.Result.Substring($Prefix.Length) }
        }
        return $null
    }

    $root = Read-HolderLine 'ready '
    if (-not $root) {
        if (-not $holder.HasExited) { $holder.Kill() }
        throw "the pwsh holding the claim did not get ready: $(if ($errors.Wait(5000)) { $errors.Result })"
    }
}

AfterAll {
    if ($holder -and -not $holder.HasExited) { $holder.Kill(); $null = $holder.WaitForExit(10000) }
    Remove-Item -Path $archive -ErrorAction SilentlyContinue
    Remove-FixtureCopy $copy
    $env:TMPDIR = $previousTemp
}

Describe 'Remove-UsbIpExport of a port that another pwsh holds claimed' {
    It 'finds the device exported by the other process, on usbip-host' {
        (Get-UsbDevice -Root $root 1-2).Driver | Should -Be 'usbip-host'
        @(Get-ChildItem -Path "$root/run/virttools" -Filter 'usbipd-*.sock').Count | Should -Be 1
    }

    It 'is carried out by that process: the device stays unconfigured on the generic driver, with no host driver' {
        $device = Remove-UsbIpExport -Root $root -BusId 1-2 -Confirm:$false -PassThru
        $device.BusId | Should -Be '1-2'
        $device.Driver | Should -Be 'usb'
        $tablet = Get-UsbDevice -Root $root 1-2
        $tablet.Driver | Should -Be 'usb'
        $tablet.Configuration | Should -BeNullOrEmpty
        $tablet.InterfaceDrivers | Should -BeNullOrEmpty
        $tablet.PortClaimed | Should -BeTrue
        $tablet.IsExported | Should -BeFalse
    }

    It 'leaves the port to that process: its Stop-UsbIpServer hands the tablet back to usbhid' {
        $holder.StandardInput.WriteLine('stop')
        Read-HolderLine 'stopped ' | Should -Be 'usbhid'
        $holder.WaitForExit(60000) | Should -BeTrue
        $holder.ExitCode | Should -Be 0
    }
}
