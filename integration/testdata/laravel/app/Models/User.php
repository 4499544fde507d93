<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

/** User is the Eloquent model of the SerializesModels jobs: table users on the `sqlite` connection (42 Ada, 43 Grace). */
class User extends Model
{
    protected $connection = 'sqlite';
    protected $table = 'users';
    public $timestamps = false;
    protected $guarded = [];
}
