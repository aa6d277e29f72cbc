# Shared by the Pester files: where the module under test and the captured kernel tree are. Dot-source it in BeforeAll
# (and in BeforeDiscovery where a file needs the paths to build its cases).

# The module folder users install: out/VirtTools as `dotnet build` lays it out, never a test bin folder.
$script:ModuleManifest = if ($env:VIRTTOOLS_MODULE) { $env:VIRTTOOLS_MODULE } else { "$PSScriptRoot/../../out/VirtTools/VirtTools.psd1" }

# The sysfs/procfs tree captured from a real Debian 6.1 kernel in the QEMU lab.
$script:FixtureArchive = if ($env:VIRTTOOLS_FIXTURE_ARCHIVE) { $env:VIRTTOOLS_FIXTURE_ARCHIVE } else {
    @("$PSScriptRoot/../fixtures/qemu-debian-6.1-usbip-vfio.tgz", "$PSScriptRoot/../../../shared/fixtures/qemu-debian-6.1-usbip-vfio.tgz") |
        Where-Object { Test-Path $_ } | Select-Object -First 1
}

# A private, writable copy of the captured tree, as the path of a new temporary folder; Remove-FixtureCopy deletes it.
# Not under $TestDrive: Pester clears a TestDrive between blocks with a .NET enumeration that follows directory
# symlinks, and a sysfs tree is full of symlink loops (bus/pci/devices/X/subsystem -> bus/pci), so it never ends.
function New-FixtureCopy {
    # On tmpfs where the machine lets us write there: unpacking 9,000 entries onto a loaded disk takes seconds a copy.
    $name = "virttools-pester-$([guid]::NewGuid())"
    $folder = try { (New-Item -ItemType Directory -Path (Join-Path /dev/shm $name) -ErrorAction Stop).FullName }
    catch { (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) $name)).FullName }
    tar -xzf $script:FixtureArchive -C $folder
    if ($LASTEXITCODE -ne 0) { throw "tar could not extract $script:FixtureArchive into $folder" }
    $folder
}

# Deletes a tree New-FixtureCopy made, without following its symlinks.
function Remove-FixtureCopy([string] $Path) {
    if ($Path -and [IO.Directory]::Exists($Path)) { [IO.Directory]::Delete($Path, $true) }
}

# Every folder, file and symlink under a tree, one sorted line each (a file with its size, write time and content
# hash, a symlink with its target), read without following symlinks. -WhatIf tests take it before and after: any write
# the kernel would have seen (an attribute, a driver link, a new record file) changes a line.
function Get-TreeState([string] $Path) {
    $lines = [Collections.Generic.List[string]]::new()
    $pending = [Collections.Generic.Stack[IO.DirectoryInfo]]::new()
    $pending.Push([IO.DirectoryInfo]::new($Path))
    while ($pending.Count -gt 0) {
        foreach ($entry in $pending.Pop().EnumerateFileSystemInfos()) {
            $name = [IO.Path]::GetRelativePath($Path, $entry.FullName)
            if ($entry.LinkTarget) { $lines.Add("$name -> $($entry.LinkTarget)") }
            elseif ($entry -is [IO.DirectoryInfo]) { $lines.Add("$name/"); $pending.Push($entry) }
            else {
                $hash = try { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([IO.File]::ReadAllBytes($entry.FullName))) }
                        catch [UnauthorizedAccessException] { 'unreadable' }
                $lines.Add("$name $($entry.Length) $($entry.LastWriteTimeUtc.Ticks) $hash")
            }
        }
    }
    $lines.Sort([StringComparer]::Ordinal)
    , $lines.ToArray()
}

# What -WhatIf tells the user goes to the host, not to a stream: a transcript is how a script sees it.
function Get-WhatIfText([scriptblock] $Command) {
    $log = Join-Path ([IO.Path]::GetTempPath()) "virttools-whatif-$([guid]::NewGuid()).txt"
    Start-Transcript -Path $log -UseMinimalHeader | Out-Null
    try { & $Command } finally { Stop-Transcript | Out-Null }
    try { Get-Content -Raw $log } finally { Remove-Item $log }
}
